"""The study's report: metrics over seeds, figures, and summary.md with what ran and what it showed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from synthfer.arms import (
    BASELINE_ARCHITECTURES,
    OVERSAMPLED,
    REAL_ONLY,
    SELECTED_SUFFIX,
    SYNTHETIC_ONLY,
    control_arms,
    generated_arms,
    is_mixed,
    kind,
)
from synthfer.inference import VERDICTS, adjust_families
from synthfer.labels import EMOTIONS
from synthfer.metrics import (
    CHANCE_SHARE,
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


CONTROL_MEANING = {
    "real-steps": "real faces only, each epoch as long as real + k units: as many gradient steps as arm k",
    "real-augmented": "real faces plus as many augmented copies of them as k units hold: flipped, warped, brightness and contrast jittered",
}


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
    return adjust_families(table, target) if len(table) else table.assign(n_tests=[], p_holm=[], q_bh=[], verdict=[])


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
    paired_gains.csv, selection_gains.csv and control_gains.csv once written (synthfer.steps.report)."""

    metrics: pd.DataFrame
    summary: pd.DataFrame
    gains: pd.DataFrame
    selection_gains: pd.DataFrame
    control_gains: pd.DataFrame


def aggregate(predictions: pd.DataFrame, target: float = TARGET_EFFECT) -> ResultTables:
    """Metrics per run, their summary over seeds, and the paired comparisons with their families' corrections.

    Families (Holm within each): the ratio grid of one arm (a control's too) on one test set (is any k better
    than real only there?); one baseline architecture over the test sets; all selection comparisons together;
    one generated arm against one control over its ratios and test sets."""
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
        else gains_table.assign(n_tests=[], p_holm=[], q_bh=[], verdict=[])
    )
    return ResultTables(
        metrics=metrics,
        summary=summary,
        gains=gains_table[["arm", *[c for c in gains_table.columns if c != "arm"]]],
        selection_gains=selection_gains(predictions, target),
        control_gains=control_gains(predictions, target),
    )


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


def _fmt(mean: float, half: float) -> str:
    if np.isnan(mean):
        return "n/a"
    return f"{100 * mean:.1f} ± {100 * half:.1f}" if not np.isnan(half) else f"{100 * mean:.1f}"


def _p_text(p: float) -> str:
    return "n/a" if pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3g}")


def _gain_text(row: pd.Series) -> str:
    """gain [95% interval], the family-adjusted p, the minimal detectable effect and the verdict."""
    if pd.isna(row.get("p_holm", np.nan)):
        return f"{100 * row['gain']:+.1f} points (no test: one seed, or no spread at all)"
    return (
        f"{100 * row['gain']:+.1f} [{100 * row['ci_low']:+.1f}, {100 * row['ci_high']:+.1f}], p_Holm {_p_text(row['p_holm'])}, "
        f"MDE {100 * row['mde']:.1f}: {row['verdict']}"
    )


def _seeds_text(seeds: float) -> str:
    return (
        "more than 1000 (the test subjects limit it: more test subjects are needed)"
        if np.isinf(seeds)
        else f"{int(seeds)}"
    )


def _accuracy_sections(config: dict, summary: pd.DataFrame, gains: pd.DataFrame | None, heading: str) -> list[str]:
    """The accuracy table, the verdict per test set and the paired gains of one translator (with real only)."""
    ks = sorted(summary["k"].astype(str).unique(), key=k_order)
    lines = [f"{heading} Accuracy (%; mean ± 95% CI over seeds)", ""]
    table = summary.pivot(index="test_set", columns="k", values="accuracy_mean")
    half = summary.pivot(index="test_set", columns="k", values="accuracy_ci95")
    lines.append("| test set | " + " | ".join(f"k={k}" for k in ks) + " |")
    lines.append("|---|" + "---|" * len(ks))
    for test_set in table.index:
        lines.append(
            f"| {test_set} | " + " | ".join(_fmt(table.loc[test_set, k], half.loc[test_set, k]) for k in ks) + " |"
        )
    if ks == ["0"]:  # a real-only study: nothing to compare within it
        return lines
    lines += ["", f"{heading} What the numbers say", ""]
    for test_set in config["roles"]["cross_test"] + ["real_test"]:
        if test_set not in table.index:
            continue
        row = table.loc[test_set]
        mixed = [k for k in ks if k != SYNTHETIC_ONLY]
        best = max(mixed, key=lambda k: row[k])
        base = row.get("0", np.nan)
        gain = 100 * (row[best] - base)
        verdict = (
            "no ratio beats real only"
            if best == "0"
            else f"best k = {best}: {_fmt(row[best], half.loc[test_set, best])} vs real only {_fmt(base, half.loc[test_set, '0'])} ({gain:+.1f} points)"
        )
        paired = (
            gains[(gains["test_set"] == test_set) & (gains["k"].astype(str) == best)]
            if gains is not None and best != "0"
            else pd.DataFrame()
        )
        if len(paired):
            p_row = paired.iloc[0]
            verdict += (
                f" (k chosen as the best on this test set, so its test is one of the family's {int(p_row['n_tests'])}: "
                f"Holm-adjusted); paired over the same faces and seeds: {_gain_text(p_row)}"
            )
        lines.append(f"- **{test_set}**: {verdict}.")
    if gains is not None and len(gains):
        lines += _verdict_lines(gains)
        lines += [
            "",
            f"{heading} Gain over real only, paired (accuracy points: gain [95% interval], Holm-adjusted p within the test set's "
            "ratio grid, minimal detectable effect at 80% power, verdict)",
            "",
        ]
        lines += _gain_table(gains)
    return lines


def _families(n: int) -> str:
    return "one family, Holm within it" if n == 1 else f"{n} families, Holm within each"


def _verdict_lines(gains: pd.DataFrame) -> list[str]:
    """Counts of verdicts and the power of the design, for a block of comparisons."""
    counts = gains["verdict"].value_counts()
    said = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts)
    tested = gains[gains["mde"].notna()]
    lines = [f"- Verdicts over {len(gains)} comparisons ({_families(gains['family'].nunique())}): {said}."]
    if len(tested):
        seeds = tested["seeds_for_target"]
        lines.append(
            f"- Power: at {int(tested['n_seeds'].max())} seeds the minimal detectable effect (80% power, 5% two-sided) is "
            f"{100 * tested['mde'].min():.1f} to {100 * tested['mde'].max():.1f} points; a gain of the target size needs "
            f"{_seeds_text(seeds.min())} to {_seeds_text(seeds.max())} seeds."
        )
    return lines


def _gain_table(gains: pd.DataFrame) -> list[str]:
    """Paired gains as a markdown table: a row per test set, a column per k."""
    gains = gains.assign(k=gains["k"].astype(str))
    ks = sorted(gains["k"].unique(), key=k_order)
    lines = ["| test set | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
    for test_set, group in gains.groupby("test_set"):
        cells = {r["k"]: _gain_text(r) for _, r in group.iterrows()}
        lines.append(f"| {test_set} | " + " | ".join(cells.get(k, "n/a") for k in ks) + " |")
    return lines


def _quality_lines(fidelity: pd.DataFrame, quality: pd.DataFrame | None) -> list[str]:
    """Fidelity and quality sentences of one translator."""
    lines = []
    if len(fidelity):
        per_emotion = fidelity.groupby("emotion")["fidelity"].mean()
        lines.append(
            f"- Expression fidelity: a classifier trained on real faces only (k = 0, each seed) assigns "
            f"**{100 * fidelity['fidelity'].mean():.1f}%** of the generated faces to the emotion they were generated as "
            f"(chance: {100 / len(EMOTIONS):.1f}%). Per emotion: "
            + ", ".join(f"{e} {100 * v:.0f}%" for e, v in per_emotion.items())
            + "."
        )
    if quality is not None and len(quality):
        mean = quality.groupby(["metric", "emotion"])["value"].mean()
        div_gen = quality.loc[quality["metric"] == "diversity_generated", "value"].mean()
        div_real = quality.loc[quality["metric"] == "diversity_real", "value"].mean()
        lines += [
            f"- Identity preservation: a translated face lies at {mean[('same_identity_distance', 'all')]:.2f} from its own neutral "
            f"source and at {mean[('other_identity_distance', 'all')]:.2f} from other identities' (ratio "
            f"{mean[('identity_ratio', 'all')]:.2f}; below 1 means the person is kept).",
            f"- Diversity: mean pairwise distance within an emotion {div_gen:.2f} for generated faces, {div_real:.2f} for real ones.",
            f"- Frechet distance, real vs generated emotional faces: {mean[('frechet_distance', 'all')]:.1f}"
            + (
                f" (fewer faces than the 1024 feature dimensions: Ledoit-Wolf shrunk covariances, mean shrinkage "
                f"{mean[('frechet_shrinkage', 'all')]:.2f}; compare it only with runs of the same face counts)."
                if mean.get(("frechet_shrinkage", "all"), 0) > 0
                else "."
            ),
        ]
    return lines


def _minority_lines(config: dict, summary: pd.DataFrame, gains: pd.DataFrame) -> list[str]:
    """Study 2: each (translator, n) against no added faces on the same folds."""
    m = config["minority"]
    target = m["target"]
    folds = f"{m.get('repeats', 3)} x {m.get('folds', 10)}-fold"
    lines = [
        f"## Study 2: {target} faces translated from neutral, added to {m['dataset']} ({folds} stratified cross-validation)",
        "",
        "Mean over folds ± 95% CI; the gain is paired on the same folds with the corrected resampled t-test (Nadeau & Bengio).",
        "",
        f"| translator | n added | accuracy | macro AUC (one-vs-rest) | {target} precision | {target} AUC | folds at chance |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in summary.sort_values(["n", "translator"]).to_dict("records"):

        def cell(metric: str, r: dict = r) -> str:
            return _fmt(r.get(f"{metric}_mean", np.nan), r.get(f"{metric}_ci95", np.nan))

        stuck = r.get("folds_at_chance", np.nan)
        lines.append(
            f"| {r['translator']} | {r['n']} | {cell('accuracy')} | {cell('macro_auc_ovr')} | {cell(f'precision_{target}')} | {cell(f'auc_{target}')} | "
            f"{'n/a' if pd.isna(stuck) else int(stuck)} |"
        )
    lines.append("")
    if summary.get("folds_at_chance", pd.Series(dtype=float)).fillna(0).gt(0).any():
        lines += [
            f"A fold at chance is one whose classifier never left the chance plateau (best validation loss at least {100 * CHANCE_SHARE:.0f}% "
            "of ln 6): a failed training that drags its setting's mean down; raise `classifier.start_from_epoch` or `patience`.",
            "",
        ]
    capped = summary[summary.get("folds_still_improving", pd.Series(0, index=summary.index)).fillna(0) > 0]
    if len(capped):
        lines += [
            "Folds still improving when `classifier.max_epochs` ended them (their best epoch was their last): "
            + ", ".join(
                f"{r['translator']} n={r['n']} ({int(r['folds_still_improving'])} folds)"
                for r in capped.to_dict("records")
            )
            + ". Those classifiers are undertrained: raise `classifier.max_epochs`.",
            "",
        ]
    if "p_holm" not in gains.columns:  # a table from before the correction: every test its own family
        gains = gains.assign(p_holm=gains["p_value"], n_tests=1)
    reference = gains["reference"] if "reference" in gains.columns else pd.Series("none", index=gains.index)
    shown = gains["metric"].isin(["macro_auc_ovr", f"precision_{target}"])
    for r in gains[shown & (reference == "none")].to_dict("records"):
        lines.append(f"- {r['translator']}, +{r['n']} {target}: {_minority_change(r, 'settings')}.")
    controlled = gains[shown & (reference == OVERSAMPLED)]
    if len(controlled):
        lines += [
            "",
            f"Against the control {OVERSAMPLED} (the same n, made of the fold's own real {target} faces repeated: new faces, or "
            f"just more {target} labels?), on the same folds:",
            "",
        ]
        lines += [
            f"- {r['translator']} vs {OVERSAMPLED}, +{r['n']} {target}: {_minority_change(r, 'translators against the control')}."
            for r in controlled.to_dict("records")
        ]
    lines.append("")
    return lines


def _minority_change(r: dict, family: str) -> str:
    """metric before -> after (difference [95% interval], Holm p over the family, the words significant or not)."""
    p = (
        f"p_Holm = {_p_text(r['p_holm'])} over the {int(r['n_tests'])} {family} of this metric"
        if not np.isnan(r["p_holm"])
        else "p n/a"
    )
    verdict = "significant at 5%" if r["p_holm"] < 0.05 else "not significant at 5%"
    return (
        f"{r['metric']} {r['baseline']:.4f} -> {r['with_added']:.4f} "
        f"({r['diff']:+.4f} [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}], {p}, {verdict})"
    )


def _selection_lines(gains: pd.DataFrame | None, source: str) -> list[str]:
    """A selected arm against all of its translator's generated faces, paired at the same k."""
    if gains is None or not len(gains):
        return []
    n_family = int(gains["n_tests"].max())
    arm = gains["arm"].iloc[0]
    lines = [
        f"{arm} against all of {source}'s generated faces at the same k (accuracy points, paired over the same faces and seeds: "
        f"gain [95% interval], p Holm-adjusted over all {n_family} selection comparisons, minimal detectable effect, verdict):",
        "",
        *_gain_table(gains),
    ]
    significant = gains[gains["p_holm"] < 0.05]
    helped, hurt = significant[significant["gain"] > 0], significant[significant["gain"] < 0]
    lines += [
        "",
        f"- {arm} helps significantly (5%, Holm) in {len(helped)} and hurts significantly in {len(hurt)} of {len(gains)} (test set, k) "
        f"comparisons (unadjusted p < 0.05: {int((gains['p_value'] < 0.05).sum())}).",
        "",
    ]
    return lines


def _control_lines(gains: pd.DataFrame | None) -> list[str]:
    """One generated arm against each control at the same k: what the generated faces add beyond as many
    gradient steps, or as many augmented real faces."""
    if gains is None or not len(gains):
        return []
    lines = []
    for control, group in gains.groupby("baseline", sort=False):
        arm = group["arm"].iloc[0]
        lines += [
            "",
            f"### Against the control {control} ({CONTROL_MEANING.get(control, control)})",
            "",
            f"{arm} minus {control} at the same k (accuracy points, paired over the same faces and seeds: gain [95% interval], p Holm-adjusted "
            f"over this family's {int(group['n_tests'].max())} comparisons, minimal detectable effect, verdict). A gain here is what the "
            "generated faces add beyond "
            + ("more optimisation." if control == "real-steps" else "classical augmentation at the same budget."),
            "",
            *_gain_table(group),
            "",
            *_verdict_lines(group),
        ]
    return lines + [""]


def _cpu_line(cpu: dict) -> str:
    """The CPU that made the report: bf16 results are bit-identical on one machine, not across CPUs whose bf16
    kernels differ (AMX, avx512_bf16 or neither)."""
    flags = [f for f, present in cpu["bf16_flags"].items() if present and f.startswith(("amx", "avx512_bf16"))]
    return (
        f"- CPU: {cpu['model']} ({cpu['logical_cpus']} logical CPUs, torch {cpu['torch_threads']} threads, kernels {cpu['torch_capability']}; "
        f"bf16 units: {', '.join(flags) or 'none'}). a CPU rerun on this machine is bit-identical; on a CPU with other bf16 units, "
        "bf16-trained numbers differ (`classifier.precision: fp32` for results that agree across machines)"
    )


def _of(table: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    """The rows of one arm (results tables, column `arm`) or one translator (per-translator tables: fidelity,
    quality, selection counts, column `translator`)."""
    column = next((c for c in ("arm", "translator") if table is not None and c in table.columns), None)
    if column is None:
        return table
    return table[table[column] == name]


def _gan_sets(config: dict) -> list[str]:
    """gan_train, each dataset that is also a real training set marked: the GANs saw only its training subjects."""
    shared = set(config["roles"]["real_train"])
    return [
        f"{d} (its training-split subjects only: it is also a real training set)" if d in shared else d
        for d in config["roles"]["gan_train"]
    ]


def summary_markdown(
    config: dict,
    summary: pd.DataFrame,
    fidelity: pd.DataFrame,
    provenance: dict,
    gains: pd.DataFrame | None = None,
    quality: pd.DataFrame | None = None,
    selection: pd.DataFrame | None = None,
    table_2: pd.DataFrame | None = None,
    minority: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    table_3: pd.DataFrame | None = None,
    selection_gain: pd.DataFrame | None = None,
    control_gain: pd.DataFrame | None = None,
) -> str:
    """summary.md: what ran, with which config, and the headline numbers (mean ± 95% CI over seeds), one
    section per translator, each compared with the same real-only runs. (Twelve parameters: the config, the
    provenance and one per table the summary reports.)"""
    ks = sorted(summary["k"].astype(str).unique(), key=k_order)
    translators = translator_names(summary)
    real_only = ks == ["0"]
    design = (
        "real faces only (`experiment.ratios: [0]`, no synthetic-only run): study 1 generated no faces and trained no GAN"
        if real_only
        else "real faces plus k units of generated faces (k = 0: real only; syn: one generated unit alone)"
    )
    lines = [
        "# synthfer report",
        "",
        f"How far does GAN-generated data improve facial expression recognition? The paper's CNN trained on the {design}, "
        f"{len(config['experiment']['seeds'])} seeds per setting.",
        "",
        f"- real training datasets: {', '.join(config['roles']['real_train'])}",
        *([] if real_only else [f"- GAN training datasets: {', '.join(_gan_sets(config))}"]),
        f"- cross-database test sets (never trained on): {', '.join(config['roles']['cross_test']) or 'none'}",
        *(
            []
            if real_only
            else [
                f"- expression translators compared: {', '.join(translators) or 'none'} (every one is given the same generated identities)"
            ]
        ),
        *(
            [f"- controls (real faces only, with the budget of arm k): {', '.join(control_names(summary))}"]
            if control_names(summary)
            else []
        ),
        f"- image size {config['preprocess']['image_size']} px; ratios k = {', '.join(ks)}; seeds {config['experiment']['seeds']}",
        f"- commit {provenance['commit']}; torch {provenance['versions']['torch']}; snakemake {provenance['versions']['snakemake']}; GPU: {provenance['cuda']}",
        *([_cpu_line(provenance["cpu"])] if "cpu" in provenance else []),
    ]
    if table_2 is not None and "precision" in table_2:
        lines.append(
            f"- the classifiers trained in {', '.join(sorted(set(', '.join(table_2['precision']).split(', '))))} "
            f"(`classifier.precision: {config.get('classifier', {}).get('precision', 'auto')}`; auto = bf16 where the device has bf16 units)"
        )
    lines.append("")
    for translator in translators or [REAL_ONLY]:
        lines += ["## Real faces only" if translator == REAL_ONLY else f"## Translator: {translator}", ""]
        lines += _accuracy_sections(config, with_baseline(summary, translator), _of(gains, translator), "###")
        quality_lines = _quality_lines(_of(fidelity, translator), _of(quality, translator))
        kept = (
            _of(selection, translator.removesuffix(SELECTED_SUFFIX))
            if translator.endswith(SELECTED_SUFFIX) and selection is not None
            else None
        )
        if kept is not None and len(kept):
            lines += [
                "",
                f"Selection kept {int(kept['after'].sum())} of {int(kept['before'].sum())} generated emotional faces "
                f"(confirmed by the real-only classifiers; per emotion: "
                + ", ".join(f"{r.emotion} {100 * r.kept_share:.0f}%" for r in kept.itertuples())
                + ").",
                "",
            ]
        lines += _selection_lines(_of(selection_gain, translator), translator.removesuffix(SELECTED_SUFFIX))
        lines += _control_lines(_of(control_gain, translator))
        if quality_lines:
            lines += ["", "### Does the translator change the expression, and keep the person?", "", *quality_lines]
        lines.append("")
    for control in control_names(summary):
        lines += [
            f"## Control: {control}",
            "",
            f"{CONTROL_MEANING.get(control, control)}; validated and tested on real faces only.",
            "",
        ]
        lines += _accuracy_sections(config, with_baseline(summary, control), _of(gains, control), "###")
        lines.append("")
    if table_2 is not None and len(table_2):
        test_sets = [
            c.removeprefix("acc_").removesuffix("_mean")
            for c in table_2.columns
            if c.startswith("acc_") and c.endswith("_mean")
        ]
        lines += [
            "## Table 2: training and test accuracy per run (%; mean ± 95% CI over seeds)",
            "",
            "Training accuracy is Keras-style (running over the kept epoch, dropout on), as the paper reports it.",
            "",
            "| arm | k | train | " + " | ".join(test_sets) + " | kept epoch |",
            "|---|---|---|" + "---|" * len(test_sets) + "---|",
        ]
        for r in table_2.to_dict("records"):
            cells = [_fmt(r[f"acc_{t}_mean"], r[f"acc_{t}_ci95"]) for t in test_sets]
            lines.append(
                f"| {r['arm']} | {r['k']} | {_fmt(r['train_accuracy_mean'], r['train_accuracy_ci95'])} | "
                + " | ".join(cells)
                + f" | {r['best_epoch_mean']:.1f} |"
            )
        lines.append("")
        failed = table_2[table_2.get("seeds_at_chance", pd.Series(0, index=table_2.index)) > 0]
        if len(failed):
            lines += [
                "Runs that never left the chance plateau (best validation loss at least "
                f"{100 * CHANCE_SHARE:.0f}% of ln 6): "
                + ", ".join(
                    f"{r['arm']} k={r['k']} ({r['seeds_at_chance']} of {r['best_epoch_n_seeds']} seeds)"
                    for r in failed.to_dict("records")
                )
                + ". Their accuracy is a failed training, not an effect of the faces they were given: raise `classifier.start_from_epoch` "
                "or `patience`, or lower `lr`.",
                "",
            ]
        capped = table_2[table_2.get("seeds_still_improving", pd.Series(0, index=table_2.index)) > 0]
        if len(capped):
            lines += [
                "Runs still improving when `classifier.max_epochs` ended them (their best epoch was their last): "
                + ", ".join(
                    f"{r['arm']} k={r['k']} ({r['seeds_still_improving']} of {r['best_epoch_n_seeds']} seeds)"
                    for r in capped.to_dict("records")
                )
                + ". They are undertrained, and a gain over an undertrained real-only run overstates what the generated faces do: "
                "raise `classifier.max_epochs`.",
                "",
            ]
    if table_3 is not None and len(table_3):
        sets = [c.removesuffix("_mean") for c in table_3.columns if c.endswith("_mean")]
        lines += [
            "## Table 3: the compared models on every test set (accuracy %; mean ± 95% CI over seeds)",
            "",
            "The best k of each translator is the one with the highest mean accuracy over the cross-database sets: chosen on the "
            "test sets as the paper did, so its number is optimistic. Per-class precision, recall and F1 of these models: `per_class_metrics.png`.",
            "",
            "| model | " + " | ".join(sets) + " |",
            "|---|" + "---|" * len(sets),
        ]
        for r in table_3.to_dict("records"):
            lines.append(f"| {r['model']} | " + " | ".join(_fmt(r[f"{t}_mean"], r[f"{t}_ci95"]) for t in sets) + " |")
        lines.append("")
    for baseline in baseline_names(summary):
        lines += [
            f"## Baseline: {baseline} on real faces only (the paper compares it with the small CNN + generated faces)",
            "",
        ]
        here = summary[summary["arm"].isin([REAL_ONLY, baseline])]
        lines += [
            "| test set | paper CNN, real only | " + baseline + " | " + baseline + " - paper CNN, paired |",
            "|---|---|---|---|",
        ]
        for test_set, group in here.groupby("test_set"):
            cell = {r.arm: _fmt(r.accuracy_mean, r.accuracy_ci95) for r in group.itertuples()}
            paired = _of(gains, baseline) if gains is not None else None
            paired = paired[paired["test_set"] == test_set] if paired is not None else pd.DataFrame()
            lines.append(
                f"| {test_set} | {cell.get(REAL_ONLY, 'n/a')} | {cell.get(baseline, 'n/a')} | {_gain_text(paired.iloc[0]) if len(paired) else 'n/a'} |"
            )
        lines.append("")
    if minority is not None:
        lines += _minority_lines(config, *minority)
    if quality is not None and len(quality):
        lines += [
            "Quality (`quality.csv`) is measured in the penultimate-layer features of the real-only classifiers: a domain "
            "feature space, not Inception's, so the Frechet distance compares translators and runs of this workflow, not published FIDs.",
            "",
        ]
    lines += [
        "## Files",
        "",
        "- `metrics.csv`: one row per (arm, k, seed, test set): accuracy, balanced accuracy, macro-F1, per-class "
        "precision/recall/F1, one-vs-rest ROC AUC per class and macro; k = 0 runs have arm `real`",
        "- `metrics_summary.csv`: the same over seeds: mean, sd, 95% CI half-width",
        "- `paired_gains.csv`: each arm's k against real only on the same test faces: gain, 95% interval and p-value (seeds and test "
        "subjects as random units), its family, Holm p and BH q within it, the minimal detectable effect at 80% power, the seeds the target "
        "effect needs, the variance components, the verdict",
        "- `selection_gains.csv`: each selected (and balanced) arm against its translator's unselected faces at the same k, paired the same way",
        "- `control_gains.csv`: each generated arm against each control arm (real-steps, real-augmented) at the same k, paired the same way",
        "- `table2.csv`: the paper's Table 2 with spread: training accuracy, kept epoch and accuracy on every test set per run",
        "- `table3.csv`, `per_class_metrics.png`: real only, baselines, synthetic only and the best k of each translator side by side on every test set",
        "- `accuracy_vs_ratio.png`, `confusion/*.png`, `samples_<translator>.png`, `generated_fidelity.csv`, `quality.csv`, `selection_counts.csv`",
    ]
    if minority is not None:
        lines.append(
            "- `minority.csv`, `minority_gains.csv`: study 2 per (translator, n added) over folds, and the paired gain over no added faces"
        )
    lines += [
        "- `provenance.json`: commit and versions; the configuration is below.",
        "",
        "## Configuration",
        "",
        "```yaml",
        yaml.safe_dump(config, sort_keys=False).rstrip(),
        "```",
        "",
    ]
    text = "\n".join(lines)
    return text
