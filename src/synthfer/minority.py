"""Study 2's protocol: add n translated faces of one minority emotion, judged by repeated stratified k-fold
cross-validation (3 x 10 in the paper), against the same folds without them.

Every fold trains the paper CNN on the fold's training part (a stratified share of its subjects held out for
early stopping) plus n generated faces, and tests on the fold's test part: accuracy, per-class precision,
one-vs-rest ROC AUC. Folds are by subject, and a fold's generated faces are translations of its own training
subjects' neutral faces, so no person is on both sides. The folds are the same for every setting (one
seed), so settings are compared fold by fold. Neutral is a
translation source here, not a class (the paper's classifier had 7 classes; ours has the 6 emotions).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from scipy import stats

from synthfer.data.store import FaceSet
from synthfer.experiment import emotions_only, labels_of
from synthfer.folds import FoldPlan, plan_folds  # noqa: F401 - re-exported
from synthfer.labels import EMOTIONS
from synthfer.logs import Progress
from synthfer.metrics import at_chance, classification_metrics, one_vs_rest_auc, still_improving
from synthfer.settings import MinorityConfig  # noqa: F401 - re-exported
from synthfer.train.classifier import ClassifierConfig, predict_proba, train_classifier
from synthfer.translate import Translator

log = logging.getLogger("synthfer")


def translate_neutral(
    faces: FaceSet, positions: np.ndarray, translator: Translator, target: str, batch: int = 256
) -> dict[int, np.ndarray]:
    """Each listed neutral face translated into `target` once, however many folds use it."""
    unique = np.unique(positions)
    out = {}
    for start in range(0, len(unique), batch):
        chunk = unique[start : start + batch]
        images = translator.to_emotion(torch.from_numpy(faces.images[chunk]).unsqueeze(1), target)[:, 0].numpy()
        out.update(zip(chunk.tolist(), images))
    return out


def oversampled_positions(y_fit: np.ndarray, target: int, n: int, seed: int) -> np.ndarray:
    """The control real-oversampled: positions (in the fold's fit part) of n real faces of the target emotion,
    each equally often and the remainder drawn without repeats, added on top of the fit part as translated
    faces would be."""
    from synthfer.experiment import budget_sources

    pool = np.flatnonzero(y_fit == target)
    if not len(pool):
        raise ValueError(
            f"oversampling {EMOTIONS[target]} needs real {EMOTIONS[target]} faces in every fold's training part; a fold has none"
        )
    return pool[budget_sources(len(pool), n, np.random.default_rng(seed))]


def cross_validate(
    faces: FaceSet,
    translator: Translator | None,
    n: int,
    cfg: MinorityConfig,
    classifier: ClassifierConfig,
    device: torch.device,
    oversample: bool = False,
) -> pd.DataFrame:
    """One row per (repeat, fold): the fold's metrics on its test part, trained on its fit part plus n
    translated faces (none when `translator` is None or n = 0), or, with `oversample`, plus n repeats of the
    fit part's own real faces of the target emotion."""
    n = n if translator is not None or oversample else 0
    plans = plan_folds(
        faces, 0 if oversample else n, cfg
    )  # the folds do not depend on n: only which neutral faces are translated
    real = emotions_only(faces)
    y = labels_of(real)
    translated = (
        translate_neutral(faces, np.concatenate([p.added for p in plans]), translator, cfg.target)
        if n and not oversample
        else {}
    )
    target = EMOTIONS.index(cfg.target)
    rows = []
    progress = Progress("cross-validation fold", len(plans), every_s=0)
    for i, plan in enumerate(plans):
        x_fit, y_fit = real.images[plan.fit], y[plan.fit]
        n_added = 0
        if oversample and n:
            repeats = oversampled_positions(y_fit, target, n, cfg.seed + i)
            x_fit, y_fit, n_added = (
                np.concatenate([x_fit, x_fit[repeats]]),
                np.concatenate([y_fit, y_fit[repeats]]),
                len(repeats),
            )
        elif len(plan.added):
            x_fit = np.concatenate([x_fit, np.stack([translated[j] for j in plan.added.tolist()])])
            y_fit, n_added = np.concatenate([y_fit, np.full(len(plan.added), target)]), len(plan.added)
        model, history = train_classifier(
            x_fit, y_fit, real.images[plan.val], y[plan.val], classifier, cfg.seed + i, device
        )
        best = history[history["best"]].iloc[-1]
        proba = predict_proba(model, real.images[plan.test])
        true, pred = np.asarray(EMOTIONS)[y[plan.test]], np.asarray(EMOTIONS)[proba.argmax(1)]
        rows.append(
            {
                "repeat": plan.repeat,
                "fold": plan.fold,
                "n_train": len(x_fit),
                "n_added": n_added,
                "n_test": len(plan.test),
                "best_epoch": int(best["epoch"]),
                "epochs": int(history["epoch"].max()),
                "best_val_loss": float(best["val_loss"]),
                "at_chance": bool(at_chance(best["val_loss"])),
                "still_improving": still_improving(history),
                "precision": best["precision"],
                **classification_metrics(true, pred),
                **one_vs_rest_auc(true, proba),
            }
        )
        progress.update(i + 1, f"acc={rows[-1]['accuracy']:.3f} macro_auc={rows[-1]['macro_auc_ovr']:.3f}")
    return pd.DataFrame(rows)


def corrected_paired_ttest(diffs: np.ndarray, n_train: float, n_test: float) -> dict[str, float]:
    """Mean difference over repeated-CV folds with the Nadeau-Bengio corrected resampled t-test: folds share
    training data, so the plain t-test's variance is inflated by (1/J + n_test/n_train)."""
    diffs = np.asarray(diffs, dtype=float)
    j = len(diffs)
    mean = float(diffs.mean())
    var = float(diffs.var(ddof=1)) if j > 1 else float("nan")
    se = np.sqrt((1 / j + n_test / n_train) * var) if j > 1 else float("nan")
    if j < 2 or se == 0 or np.isnan(se):
        p = 1.0 if mean == 0 else float("nan")
        return {"diff": mean, "ci_low": mean, "ci_high": mean, "p_value": p}
    t = mean / se
    half = float(stats.t.ppf(0.975, j - 1) * se)
    return {
        "diff": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "p_value": float(2 * stats.t.sf(abs(t), j - 1)),
    }


def compare_settings(
    folds: pd.DataFrame, setting: tuple[str, int], reference: tuple[str, int], metrics: list[str]
) -> list[dict]:
    """One (translator, n) setting against another on the same folds, per metric (corrected resampled t-test)."""
    key = ["repeat", "fold"]
    base = folds[(folds["translator"] == reference[0]) & (folds["n"] == reference[1])].set_index(key)
    group = folds[(folds["translator"] == setting[0]) & (folds["n"] == setting[1])].set_index(key)
    common = group.index.intersection(base.index)
    rows = []
    for metric in metrics:
        diffs = (group.loc[common, metric] - base.loc[common, metric]).dropna().to_numpy()
        if len(diffs) == 0:
            continue
        test = corrected_paired_ttest(diffs, group.loc[common, "n_train"].mean(), group.loc[common, "n_test"].mean())
        rows.append(
            {
                "translator": setting[0],
                "n": int(setting[1]),
                "metric": metric,
                "reference": reference[0],
                "baseline": float(base.loc[common, metric].mean()),
                "with_added": float(group.loc[common, metric].mean()),
                **test,
                "folds": len(diffs),
            }
        )
    return rows


def compare_with_baseline(folds: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Every (translator, n) against n = 0 on the same folds, per metric."""
    none = folds.loc[folds["n"] == 0, "translator"]
    if not len(none):
        return pd.DataFrame()
    settings = folds.loc[folds["n"] > 0, ["translator", "n"]].drop_duplicates().sort_values(["translator", "n"])
    rows = [
        r
        for t, n in settings.itertuples(index=False)
        for r in compare_settings(folds, (t, n), (none.iloc[0], 0), metrics)
    ]
    return pd.DataFrame(rows)


def compare_with_control(folds: pd.DataFrame, control: str, metrics: list[str]) -> pd.DataFrame:
    """Every translator against the control (real-oversampled) at the same n, on the same folds, per metric:
    do translated faces add more than the same number of repeated real faces of the target emotion?"""
    settings = (
        folds.loc[(folds["n"] > 0) & (folds["translator"] != control), ["translator", "n"]]
        .drop_duplicates()
        .sort_values(["translator", "n"])
    )
    present = set(folds.loc[folds["translator"] == control, "n"])
    rows = [
        r
        for t, n in settings.itertuples(index=False)
        if n in present
        for r in compare_settings(folds, (t, n), (control, n), metrics)
    ]
    return pd.DataFrame(rows)
