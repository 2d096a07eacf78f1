"""The study's report tables: metrics per run and over seeds, the paired comparisons with their families'
corrections, Tables 2 and 3, the confusion figures. summary.md is rendered from them by synthfer.summary."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthfer.arms import (
    BASELINE_ARCHITECTURES,
    REAL_ONLY,
    SELECTED_SUFFIX,
    SYNTHETIC_ONLY,
    control_arms,
    generated_arms,
    is_mixed,
    kind,
)
from synthfer.inference import FAMILY_COLUMNS, adjust_families, adjust_study
from synthfer.labels import EMOTIONS
from synthfer.metrics import (
    GAIN_COLUMNS,
    TARGET_EFFECT,
    at_chance,
    confusion_counts,
    k_order,
    metrics_table,
    paired_gain,
    paired_gains,
    still_improving,
    summarize_over_seeds,
)
from synthfer.plots import plot_confusion

HEADLINE = ["accuracy", "balanced_accuracy", "macro_f1", "macro_auc_ovr"]


def _run_table(path: str | os.PathLike) -> pd.DataFrame:
    """A run's file (predictions or history), with the run it belongs to from its own columns (arm, k, seed)."""
    table = pd.read_csv(path, dtype={"k": str}, keep_default_na=False, na_values=[""])
    missing = [c for c in ("arm", "k", "seed") if c not in table]
    if missing:
        raise ValueError(f"{path} lacks the run columns {missing}: it was written by an older version; rerun its job")
    return table


def read_predictions(paths: list[str | os.PathLike]) -> pd.DataFrame:
    """All kept predictions, each row tagged with its run (arm, k, seed) from the file itself."""
    return pd.concat([_run_table(p) for p in paths], ignore_index=True)


def _k_order(k: pd.Series) -> pd.Series:
    return k.map(k_order)


def _sort(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return table.sort_values(keys, key=lambda s: _k_order(s) if s.name == "k" else s).reset_index(drop=True)


def translator_names(table: pd.DataFrame) -> list[str]:
    """The arms of a results table that train on generated faces (translators, their selected and balanced arms)."""
    return generated_arms(set(table["arm"]))


def control_names(table: pd.DataFrame) -> list[str]:
    """The control arms of a results table (real faces only, with the budget of arm k)."""
    return control_arms(set(table["arm"]))


def baseline_names(table: pd.DataFrame) -> list[str]:
    return sorted(set(table["arm"]) & set(BASELINE_ARCHITECTURES))


def baseline_gains(predictions: pd.DataFrame, baseline: str, target: float = TARGET_EFFECT) -> pd.DataFrame:
    """A baseline architecture against the paper CNN, both on real faces only, paired on the same faces and seeds."""
    both = predictions[predictions["arm"].isin([REAL_ONLY, baseline])].assign(k=lambda d: d["arm"])
    rows = [
        paired_gain(both, test_set, baseline, REAL_ONLY, target)
        for test_set in sorted(set(both["test_set"]) - {"in_distribution"})
    ]
    return pd.DataFrame(rows).assign(
        arm=baseline, k="0", baseline="real (paper CNN)", family=f"architecture: {baseline} vs the paper CNN"
    )


def _arm_against(predictions: pd.DataFrame, arm: str, reference: str, family: str, target: float) -> list[dict]:
    """`arm` against `reference` at every k both ran, on every test set but in_distribution (its generated test
    faces differ between arms), paired on the same test faces and seeds."""
    both = predictions[predictions["arm"].isin([arm, reference])]
    ks = set(both.loc[both["arm"] == arm, "k"]) & set(both.loc[both["arm"] == reference, "k"])
    rows = []
    for k in sorted(ks, key=k_order):
        at_k = both[both["k"] == k].assign(k=lambda d: d["arm"])
        for test_set in sorted(set(at_k["test_set"]) - {"in_distribution"}):
            rows.append(
                {
                    **paired_gain(at_k, test_set, arm, reference, target),
                    "arm": arm,
                    "k": k,
                    "baseline": reference,
                    "family": family,
                }
            )
    return rows


def _adjusted(rows: list[dict], target: float) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["arm", *GAIN_COLUMNS, "family"])
    return adjust_families(table, target) if len(table) else table.assign(**{c: [] for c in FAMILY_COLUMNS})


def selection_gains(predictions: pd.DataFrame, target: float = TARGET_EFFECT) -> pd.DataFrame:
    """Each selected (and balanced) arm against all of its translator's generated faces at the same k, paired on
    the same test faces and seeds: does keeping only the faces the real-only classifiers confirm help, and does
    it once the class counts are those of the unselected faces? One family: every selection comparison."""
    rows = []
    for arm in translator_names(predictions):
        if kind(arm) in ("selected", "balanced"):
            rows += _arm_against(predictions, arm, arm.split(SELECTED_SUFFIX)[0], "selection", target)
    return _adjusted(rows, target)


def control_gains(predictions: pd.DataFrame, target: float = TARGET_EFFECT) -> pd.DataFrame:
    """Each generated arm against each control at the same k: do generated faces add more than as many
    gradient steps on real faces (real-steps), or as many augmented real faces (real-augmented)? A family per
    (arm, control): its ratios and test sets."""
    rows = []
    for arm in translator_names(predictions):
        for control in control_names(predictions):
            rows += _arm_against(predictions, arm, control, f"control: {arm} vs {control}", target)
    return _adjusted(rows, target)


def with_baseline(table: pd.DataFrame, translator: str) -> pd.DataFrame:
    """One translator's rows plus the shared real-only rows (k = 0)."""
    return table[table["arm"].isin([translator, REAL_ONLY])]


@dataclass(frozen=True)
class ResultTables:
    """What the report computes from the kept predictions, as frames: metrics.csv, metrics_summary.csv,
    paired_gains.csv, selection_gains.csv, control_gains.csv and gan_run_gains.csv once written
    (synthfer.steps.report)."""

    metrics: pd.DataFrame
    summary: pd.DataFrame
    gains: pd.DataFrame
    selection_gains: pd.DataFrame
    control_gains: pd.DataFrame
    gan_run_gains: pd.DataFrame


def aggregate(predictions: pd.DataFrame, target: float = TARGET_EFFECT) -> ResultTables:
    """Metrics per run, their summary over seeds, and the paired comparisons with their families' corrections.

    Families (Holm within each): the ratio grid of one arm (a control's too) on one test set (is any k better
    than real only there?); one baseline architecture over the test sets; all selection comparisons together;
    one generated arm against one control over its ratios and test sets. Beside them, Holm over all of these
    together (the *_study columns)."""
    metrics = _sort(metrics_table(predictions, ["arm", "k", "seed", "test_set"]), ["test_set", "arm", "k", "seed"])
    columns = [c for c in HEADLINE if c in metrics.columns] + [
        c for c in metrics.columns if c.startswith(("precision_", "recall_", "f1_", "auc_"))
    ]
    summary = _sort(summarize_over_seeds(metrics, ["test_set", "arm", "k"], columns), ["test_set", "arm", "k"])
    gains = [
        paired_gains(with_baseline(predictions, t), target=target).assign(arm=t)
        for t in [*translator_names(predictions), *control_names(predictions)]
    ]
    gains = [g.assign(family=lambda d: "ratios: " + d["arm"] + " on " + d["test_set"]) for g in gains]
    gains += [baseline_gains(predictions, b, target) for b in baseline_names(predictions)]
    gains_table = (
        pd.concat(gains, ignore_index=True) if gains else pd.DataFrame(columns=["arm", *GAIN_COLUMNS, "family"])
    )
    gains_table = (
        adjust_families(gains_table, target)
        if len(gains_table)
        else gains_table.assign(**{c: [] for c in FAMILY_COLUMNS})
    )
    gains_table, selection, controls = adjust_study(
        [
            gains_table[["arm", *[c for c in gains_table.columns if c != "arm"]]],
            selection_gains(predictions, target),
            control_gains(predictions, target),
        ]
    )
    return ResultTables(
        metrics=metrics,
        summary=summary,
        gains=gains_table,
        selection_gains=selection,
        control_gains=controls,
        gan_run_gains=gan_run_gains(predictions, target),
    )


GAN_RUN_GAIN_COLUMNS = ["arm", "gan_run", *GAIN_COLUMNS[: GAIN_COLUMNS.index("p_value") + 1], "n_seeds"]
"""gan_run_gains.csv: each generated arm against real only, per GAN run (its seeds only; the interval is
conditional on that run), to show beside the pooled comparison."""


def gan_run_gains(predictions: pd.DataFrame, target: float = TARGET_EFFECT) -> pd.DataFrame:
    """Each generated arm's gain over real only at every k and test set, separately for each GAN run its seeds
    trained on (only where there are two runs or more)."""
    if "gan_run" not in predictions.columns or predictions["gan_run"].dropna().nunique() < 2:
        return pd.DataFrame(columns=GAN_RUN_GAIN_COLUMNS)
    rows = []
    for arm in translator_names(predictions):
        mine = with_baseline(predictions, arm)
        for run in sorted(mine["gan_run"].dropna().unique()):
            seeds = set(mine.loc[(mine["arm"] == arm) & (mine["gan_run"] == run), "seed"])
            of_run = paired_gains(mine[mine["seed"].isin(seeds)], target=target)
            rows.append(of_run.assign(arm=arm, gan_run=int(run)))
    return pd.concat(rows, ignore_index=True)[GAN_RUN_GAIN_COLUMNS]


def collect_tables(paths: list[str | os.PathLike]) -> pd.DataFrame:
    """Per-translator tables (fidelity, quality) as one report table (no rows when the study generated nothing)."""
    table = (
        pd.concat([pd.read_csv(p) for p in paths], ignore_index=True) if paths else pd.DataFrame(columns=["translator"])
    )
    return table


def collect_selection_counts(paths: list[str | os.PathLike]) -> pd.DataFrame:
    """Kept/before counts of every selected unit (its counts.csv, which names its translator), summed per
    translator and emotion."""
    columns = ["translator", "emotion", "before", "after", "kept_share"]
    if not paths:
        table = pd.DataFrame(columns=columns)
    else:
        parts = [pd.read_csv(p) for p in paths]
        table = pd.concat(parts).groupby(["translator", "emotion"], as_index=False)[["before", "after"]].sum()
        table["kept_share"] = table["after"] / table["before"]
    return table[columns]


def read_histories(paths: list[str | os.PathLike]) -> pd.DataFrame:
    """The best epoch of every run (its history.csv, tagged with the run): its training accuracy and loss, and
    whether `classifier.max_epochs` ended it while it still improved (metrics.still_improving)."""
    rows = []
    for path in paths:
        history = _run_table(path)
        best = history[history["best"]].iloc[-1]
        rows.append(
            {
                "arm": str(best["arm"]),
                "k": str(best["k"]),
                "seed": int(best["seed"]),
                "best_epoch": int(best["epoch"]),
                "train_accuracy": float(best["train_accuracy"]),
                "val_loss": float(best["val_loss"]),
                "precision": str(best["precision"]) if "precision" in history else "unrecorded",
                "still_improving": still_improving(history),
            }
        )
    return pd.DataFrame(rows)


def table2(metrics: pd.DataFrame, histories: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 2, with spread: per (arm, k), training accuracy at the kept epoch and test
    accuracy on every test set, mean and 95% CI over seeds, one row per (arm, k)."""
    test = (
        metrics.pivot_table(index=["arm", "k", "seed"], columns="test_set", values="accuracy")
        .add_prefix("acc_")
        .reset_index()
    )
    both = histories.merge(test, on=["arm", "k", "seed"], how="inner")
    columns = ["train_accuracy", "best_epoch", *[c for c in both.columns if c.startswith("acc_")]]
    table = summarize_over_seeds(both, ["arm", "k"], columns)
    improving = both["still_improving"].astype(bool) if "still_improving" in both else False
    stuck = (
        both.assign(seeds_at_chance=at_chance(both["val_loss"]), seeds_still_improving=improving)
        .groupby(["arm", "k"], as_index=False)[["seeds_at_chance", "seeds_still_improving"]]
        .sum()
    )
    table = _sort(table.merge(stuck, on=["arm", "k"]), ["arm", "k"])
    if (
        "precision" in both
    ):  # the precision the runs trained in (classifier.precision, `auto` resolved on the machine that ran them)
        precision = both.groupby(["arm", "k"], as_index=False)["precision"].agg(lambda p: ", ".join(sorted(set(p))))
        table = table.merge(precision, on=["arm", "k"])
    return table


def best_ratios(summary: pd.DataFrame, cross_test: list[str]) -> dict[str, str]:
    """Per translator, the k (of the mixed runs, k >= 1) with the highest accuracy averaged over the
    cross-database sets (over real_test when there are none). Chosen on the test sets as the paper did, so
    the best k's accuracy is an optimistic estimate; its interval is over seeds at that k."""
    sets = [t for t in cross_test if t in set(summary["test_set"])] or ["real_test"]
    mixed = summary[summary["test_set"].isin(sets) & summary["k"].map(is_mixed)]
    best = {}
    for translator, group in mixed.groupby("arm"):
        mean = group.groupby(group["k"].astype(str))["accuracy_mean"].mean()
        best[translator] = str(mean.idxmax())
    return best


def compared_models(summary: pd.DataFrame, cross_test: list[str]) -> pd.DataFrame:
    """The models the paper sets side by side: real only, each baseline architecture, and per translator
    synthetic only and its best k. Columns model, arm, k."""
    ks = set(zip(summary["arm"], summary["k"].astype(str)))
    rows = [{"model": "real only", "arm": REAL_ONLY, "k": "0"}] if (REAL_ONLY, "0") in ks else []
    rows += [{"model": f"{b}, real only", "arm": b, "k": "0"} for b in baseline_names(summary)]
    best = best_ratios(summary, cross_test)
    for translator in translator_names(summary):
        if (translator, SYNTHETIC_ONLY) in ks:
            rows.append({"model": f"{translator}, synthetic only", "arm": translator, "k": SYNTHETIC_ONLY})
        if translator in best:
            rows.append(
                {
                    "model": f"{translator}, real + k={best[translator]} (best k)",
                    "arm": translator,
                    "k": best[translator],
                }
            )
    return pd.DataFrame(rows, columns=["model", "arm", "k"])


def table3(summary: pd.DataFrame, cross_test: list[str]) -> pd.DataFrame:
    """A Table 3-style comparison: one row per compared model, accuracy mean and 95% CI over seeds on every
    cross-database set, then the in-distribution test split."""
    models = compared_models(summary, cross_test)
    sets = [t for t in cross_test if t in set(summary["test_set"])] + (
        ["real_test"] if "real_test" in set(summary["test_set"]) else []
    )
    indexed = summary.assign(k=summary["k"].astype(str)).set_index(["arm", "k", "test_set"])
    table = models.copy()
    for test_set in sets:
        for stat in ("mean", "ci95", "n_seeds"):
            column = indexed[f"accuracy_{stat}"]
            table[f"{test_set}_{stat}"] = [
                column.get((t, k, test_set), np.nan) for t, k in zip(models["arm"], models["k"])
            ]
    return table


def confusion_figures(predictions: pd.DataFrame, out_dir: str | os.PathLike) -> list[Path]:
    """One heatmap per (test set, translator, k), counts summed over seeds."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (test_set, translator, k), group in predictions.groupby(["test_set", "arm", "k"]):
        n_seeds = group["seed"].nunique()
        path = out / f"{test_set}_{translator}_k{k}.png"
        plot_confusion(
            confusion_counts(group["true"], group["pred"]),
            list(EMOTIONS),
            path,
            f"{test_set}, {translator}, k={k} (counts over {n_seeds} seeds)",
        )
        written.append(path)
    return written
