"""Metrics from scikit-learn, computed from kept predictions so any of them can be redone without training."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from synthfer.arms import k_order  # noqa: F401 - re-exported
from synthfer.labels import EMOTIONS


def classification_metrics(true: pd.Series | np.ndarray, pred: pd.Series | np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro-F1 and per-class precision/recall/F1 over the 6 emotions."""
    labels = list(EMOTIONS)
    precision, recall, f1, support = precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
    row: dict[str, float] = {
        "n": int(len(true)),
        "accuracy": accuracy_score(true, pred),
        "balanced_accuracy": balanced_accuracy_score(true, pred),
        "macro_f1": f1_score(true, pred, labels=labels, average="macro", zero_division=0),
    }
    for i, e in enumerate(labels):
        row[f"precision_{e}"] = precision[i]
        row[f"recall_{e}"] = recall[i]
        row[f"f1_{e}"] = f1[i]
    return row


def one_vs_rest_auc(true: pd.Series | np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """ROC AUC of each emotion against the rest from the kept probabilities (columns in EMOTIONS order), and their
    macro mean; NaN for an emotion absent from (or the only one in) the test set."""
    true = np.asarray(true)
    row = {}
    for i, e in enumerate(EMOTIONS):
        positive = true == e
        row[f"auc_{e}"] = (
            float(roc_auc_score(positive, proba[:, i])) if 0 < positive.sum() < len(true) else float("nan")
        )
    values = [v for v in row.values() if not np.isnan(v)]
    row["macro_auc_ovr"] = float(np.mean(values)) if values else float("nan")
    return row


CHANCE_SHARE = 0.97
"""A run whose best validation loss is still at least this share of ln(classes) never left the chance plateau."""


def at_chance(val_loss: float | np.ndarray | pd.Series, n_classes: int = len(EMOTIONS)) -> np.ndarray:
    """True where a best validation loss (cross-entropy) is still near ln(n_classes), the loss of a uniform guess:
    such a run failed to train, and its test accuracy says nothing about the data it was given."""
    return np.asarray(val_loss, dtype=float) >= CHANCE_SHARE * np.log(n_classes)


def still_improving(history: pd.DataFrame) -> bool:
    """True when a training history's best epoch is its last: early stopping never ends a run on a new best, so
    `max_epochs` ended it while it still improved, and the run is undertrained."""
    best = history.loc[history["best"], "epoch"]
    return bool(len(best) and best.iloc[-1] == history["epoch"].max())


def confusion_counts(true: pd.Series | np.ndarray, pred: pd.Series | np.ndarray) -> np.ndarray:
    """Confusion matrix in the canonical class order, rows = true."""
    return confusion_matrix(true, pred, labels=list(EMOTIONS))


def metrics_table(predictions: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One metrics row per group of `keys` (e.g. k, seed, test_set)."""
    rows = []
    for values, group in predictions.groupby(keys, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        row = {**dict(zip(keys, values)), **classification_metrics(group["true"], group["pred"])}
        proba_columns = [f"p_{e}" for e in EMOTIONS]
        if set(proba_columns) <= set(group.columns):
            row.update(one_vs_rest_auc(group["true"], group[proba_columns].to_numpy()))
        rows.append(row)
    return pd.DataFrame(rows)


def summarize_over_seeds(metrics: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean, standard deviation and a t-based 95% CI half-width over seeds."""
    from scipy import stats

    grouped = metrics.groupby(keys)[columns]
    mean, std, count = grouped.mean(), grouped.std(ddof=1), grouped.count()
    tcrit = pd.DataFrame(stats.t.ppf(0.975, np.maximum(count.to_numpy() - 1, 1)), index=count.index, columns=columns)
    half = (tcrit * std / np.sqrt(count)).where(count > 1)
    out = pd.concat({"mean": mean, "sd": std, "ci95": half, "n_seeds": count}, axis=1)
    out.columns = [f"{metric}_{stat}" for stat, metric in out.columns]
    return out.reset_index()


GAIN_COLUMNS = [
    "test_set",
    "k",
    "baseline",
    "gain",
    "ci_low",
    "ci_high",
    "p_value",
    "se",
    "df",
    "mde",
    "seeds_for_target",
    "gan_runs_for_target",
    "n_seeds",
    "n_gan_runs",
    "n_subjects",
    "n_faces",
    "var_gan_run",
    "var_seed",
    "var_subject",
    "var_residual",
]
"""The columns of a paired comparison (paired_gain), in paired_gains.csv and selection_gains.csv: the gain with its
95% interval and p-value, the minimal detectable effect at 80% power (mde), the seeds (or, with the GAN run in
the test, the GAN runs) a target gain needs. n_gan_runs: 0 when neither arm trained on generated faces, 1 when
the test is conditional on one GAN run, 2 or more when the GAN run is a random unit of the test."""

TARGET_EFFECT = 0.05
"""The gain worth detecting, in accuracy (config `report.target_effect`): 5 points."""


def _seed_runs(a: pd.DataFrame, b: pd.DataFrame) -> int | None:
    """The GAN run one seed's comparison depends on: arm k's (`gan_run` column), else the baseline's; None when
    neither trained on generated faces."""
    for rows in (a, b):
        if "gan_run" in rows.columns and rows["gan_run"].notna().any():
            return int(rows["gan_run"].dropna().iloc[0])
    return None


def paired_gain(
    predictions: pd.DataFrame, test_set: str, k: str, baseline: str = "0", target: float = TARGET_EFFECT
) -> dict[str, float]:
    """Accuracy gain of arm k over the baseline on the same test faces, seeds and test subjects as random units,
    and the GAN runs when the seeds trained on faces of two runs or more.

    Per seed and face: correct(k) - correct(baseline); per (seed, test subject): the subject's share of the gain;
    the test, interval, detectable effect and seeds needed come from synthfer.inference (a crossed seed x subject
    design, Satterthwaite t; on the GAN runs' means when they are a unit). Faces without a `subject` column count
    as subjects of their own (FER2013's do). Identical predictions give gain 0 and p = 1.
    """
    from synthfer.inference import (
        Components,
        crossed_test,
        detectable_effect,
        gan_run_cells,
        run_component_positive,
        run_mean_squares,
        seeds_needed,
        subject_cells,
    )

    both = predictions[(predictions["test_set"] == test_set) & predictions["k"].isin([k, baseline])]
    seeds = sorted(set(both.loc[both["k"] == k, "seed"]) & set(both.loc[both["k"] == baseline, "seed"]))
    if not seeds:
        raise ValueError(f"no seed has both k={k} and k={baseline} on {test_set}")
    diffs, subjects, runs = [], None, []  # per seed: correct(k) - correct(baseline), one entry per face
    for s in seeds:
        a = both[(both["k"] == k) & (both["seed"] == s)]
        b = both[(both["k"] == baseline) & (both["seed"] == s)]
        if len(a) != len(b) or not np.array_equal(a["true"].to_numpy(), b["true"].to_numpy()):
            raise ValueError(f"{test_set}, seed {s}: k={k} and k={baseline} were not tested on the same faces")
        face_subjects = a["subject"].to_numpy() if "subject" in a.columns else np.arange(len(a))
        if subjects is None:
            subjects = face_subjects
        elif not np.array_equal(subjects, face_subjects):
            raise ValueError(f"{test_set}, seed {s}: the test faces are not in the same order as for seed {seeds[0]}")
        diffs.append(
            (a["pred"].to_numpy() == a["true"].to_numpy()).astype(float)
            - (b["pred"].to_numpy() == b["true"].to_numpy()).astype(float)
        )
        runs.append(_seed_runs(a, b))
    diffs_arr = np.stack(diffs)  # (seeds, faces)
    cells = subject_cells(diffs_arr, subjects)  # (seeds, subjects)
    n_seeds, n_subjects = cells.shape
    seed_level = crossed_test(cells)
    seed_runs = np.array([-1 if r is None else r for r in runs])
    n_gan_runs = 0 if all(r is None for r in runs) else len(np.unique(seed_runs))
    with_runs = n_gan_runs >= 2 and bool(run_component_positive(cells, seed_runs))
    # synthfer.inference.gan_run_test's rule, with the seed test computed once for both uses
    chosen = crossed_test(gan_run_cells(cells, seed_runs)) if with_runs else seed_level
    test = {name: float(value) for name, value in chosen.items()}
    if with_runs:  # the design's unit is the GAN run: plan in runs at this many seeds per run
        c = Components(np.array(test["var_seed"]), np.array(test["var_subject"]), np.array(test["var_residual"]))
        mde = float(detectable_effect(c, n_gan_runs, n_subjects))
        seeds_for, runs_for = float("nan"), seeds_needed(c, n_subjects, target)
    else:
        c = Components(*(np.array(float(seed_level[f"var_{n}"])) for n in ("seed", "subject", "residual")))
        mde = float(detectable_effect(c, n_seeds, n_subjects)) if n_seeds > 1 else float("nan")
        seeds_for, runs_for = (seeds_needed(c, n_subjects, target) if n_seeds > 1 else float("nan")), float("nan")
    var_gan_run = float("nan")
    if n_gan_runs >= 2:
        between, within, _ = run_mean_squares(cells, seed_runs)
        var_gan_run = max(float(between - within) / (n_seeds / n_gan_runs * n_subjects), 0.0)
    return {
        "test_set": test_set,
        "k": k,
        "baseline": baseline,
        "gain": float(diffs_arr.mean()),
        "ci_low": test["ci_low"],
        "ci_high": test["ci_high"],
        "p_value": test["p_value"],
        "se": test["se"],
        "df": test["df"],
        "mde": mde,
        "seeds_for_target": seeds_for,
        "gan_runs_for_target": runs_for,
        "n_seeds": n_seeds,
        "n_gan_runs": n_gan_runs,
        "n_subjects": n_subjects,
        "n_faces": diffs_arr.shape[1],
        "var_gan_run": var_gan_run,
        "var_seed": float(seed_level["var_seed"]),
        "var_subject": float(seed_level["var_subject"]),
        "var_residual": float(seed_level["var_residual"]),
    }


def paired_gains(predictions: pd.DataFrame, baseline: str = "0", target: float = TARGET_EFFECT) -> pd.DataFrame:
    """Every ratio against real only, on every test set whose faces do not depend on k (not in_distribution)."""
    rows = []
    for test_set in sorted(set(predictions["test_set"]) - {"in_distribution"}):
        present = set(predictions.loc[predictions["test_set"] == test_set, "k"].astype(str))
        if baseline not in present:
            continue
        for k in sorted(present - {baseline}, key=k_order):
            rows.append(paired_gain(predictions, test_set, k, baseline, target))
    return pd.DataFrame(rows, columns=GAIN_COLUMNS)
