"""summary.md: what ran, with which config, and what it showed, rendered from the report's tables.

The words are in the template beside this module (`summary.md.j2`); this module picks the rows (which
arm, which k is best, which runs failed) and formats the numbers, so that a reader changes a sentence in
one file and a computation in the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

from synthfer.arms import OVERSAMPLED, REAL_ONLY, SELECTED_SUFFIX, SYNTHETIC_ONLY, translator_of
from synthfer.inference import VERDICTS
from synthfer.labels import EMOTIONS
from synthfer.metrics import CHANCE_SHARE, k_order
from synthfer.report import baseline_names, control_names, translator_names, with_baseline

HERE = Path(__file__).parent
PAGE, SECTIONS = "summary.md.j2", "summary.sections.md.j2"
"""The page and the macros it imports, beside this module (the code map lists them with it)."""

CONTROL_MEANING = {
    "real-steps": "real faces only, each epoch as long as real + k units: as many gradient steps as arm k",
    "real-augmented": "real faces plus as many augmented copies of them as k units hold: flipped, warped, brightness and contrast jittered",
}


def cell(mean: float, half: float) -> str:
    """mean ± 95% CI half-width, in percent."""
    if np.isnan(mean):
        return "n/a"
    return f"{100 * mean:.1f} ± {100 * half:.1f}" if not np.isnan(half) else f"{100 * mean:.1f}"


def p_text(p: float) -> str:
    return "n/a" if pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3g}")


def gain_text(row: dict | pd.Series) -> str:
    """gain [95% interval], the family-adjusted p, the minimal detectable effect and the verdict."""
    if pd.isna(row.get("p_holm", np.nan)):
        return f"{100 * row['gain']:+.1f} points (no test: one seed, or no spread at all)"
    return (
        f"{100 * row['gain']:+.1f} [{100 * row['ci_low']:+.1f}, {100 * row['ci_high']:+.1f}], p_Holm {p_text(row['p_holm'])}, "
        f"MDE {100 * row['mde']:.1f}: {row['verdict']}"
    )


def seeds_text(seeds: float) -> str:
    return (
        "more than 1000 (the test subjects limit it: more test subjects are needed)"
        if np.isinf(seeds)
        else f"{int(seeds)}"
    )


def k_head(k: str) -> str:
    """A column head for ratio k: `k=1`; synthetic only is the Classification Accuracy Score (Ravuri and Vinyals
    2019), and named so."""
    return f"k={k} (CAS)" if str(k) == SYNTHETIC_ONLY else f"k={k}"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a name the template expects and the context lacks is an error, not ""
        autoescape=False,  # markdown, not HTML
    )
    environment.filters.update(gain=gain_text, seeds=seeds_text, k_head=k_head)
    return environment


def _tidy(text: str) -> str:
    """One blank line between blocks: the templates' blocks leave runs of them where a section is absent."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def section(name: str, *args: object) -> str:
    """One macro of summary.sections.md.j2 rendered alone (a section a test or another page shows by itself)."""
    return _tidy(getattr(_environment().get_template(SECTIONS).module, name)(*args))


def _of(table: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    """The rows of one arm (results tables, column `arm`) or one translator (per-translator tables: fidelity,
    quality, selection counts, column `translator`)."""
    column = next((c for c in ("arm", "translator") if table is not None and c in table.columns), None)
    if column is None:
        return table
    return table[table[column] == name]


def gain_grid(gains: pd.DataFrame) -> dict:
    """Paired gains as a grid: a row per test set, a column per k."""
    gains = gains.assign(k=gains["k"].astype(str))
    ks = sorted(gains["k"].unique(), key=k_order)
    rows = []
    for test_set, group in gains.groupby("test_set"):
        cells = {r["k"]: gain_text(r) for _, r in group.iterrows()}
        rows.append({"test_set": test_set, "cells": [cells.get(k, "n/a") for k in ks]})
    return {"ks": ks, "rows": rows}


def verdict_counts(gains: pd.DataFrame) -> dict:
    """Counts of verdicts (per family, and with Holm over the whole study), the GAN runs the tests rest on, and
    the power of the design, for a block of comparisons."""
    counts = gains["verdict"].value_counts()
    study = gains["verdict_study"].value_counts() if "verdict_study" in gains.columns else None
    tested = gains[gains["mde"].notna()]
    gan_runs = int(gains["n_gan_runs"].max()) if "n_gan_runs" in gains.columns and len(gains) else 0
    power = None
    if len(tested):
        needed = tested["gan_runs_for_target"] if "gan_runs_for_target" in tested else pd.Series(np.nan, tested.index)
        power = {
            "n_seeds": int(tested["n_seeds"].max()),
            "mde_min": f"{100 * tested['mde'].min():.1f}",
            "mde_max": f"{100 * tested['mde'].max():.1f}",
            "seeds_min": tested["seeds_for_target"].min(),
            "seeds_max": tested["seeds_for_target"].max(),
            "runs_min": needed.min(),
            "runs_max": needed.max(),
            "in_runs": bool(needed.notna().any()),
        }
    return {
        "n": len(gains),
        "families": gains["family"].nunique(),
        "said": ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts),
        "said_study": ", ".join(f"{study[v]} {v}" for v in VERDICTS if v in study) if study is not None else None,
        "gan_runs": gan_runs,
        "power": power,
        "grid": gain_grid(gains),
    }


def gan_run_grid(run_gains: pd.DataFrame | None) -> dict | None:
    """Each GAN run's gain over real only beside the others: a row per test set, a column per k, a cell listing
    the runs' gains (each conditional on its run)."""
    if run_gains is None or not len(run_gains):
        return None
    run_gains = run_gains.assign(k=run_gains["k"].astype(str))
    ks = sorted(run_gains["k"].unique(), key=k_order)
    rows = []
    for test_set, group in run_gains.groupby("test_set"):
        cells = {
            k: ", ".join(f"{100 * r.gain:+.1f}" for r in part.sort_values("gan_run").itertuples())
            for k, part in group.groupby("k")
        }
        rows.append({"test_set": test_set, "cells": [cells.get(k, "n/a") for k in ks]})
    return {"ks": ks, "rows": rows, "runs": sorted(int(r) for r in run_gains["gan_run"].unique())}


def accuracy(cross_test: list[str], summary: pd.DataFrame, gains: pd.DataFrame | None) -> dict:
    """The accuracy table, the verdict per test set and the paired gains of one arm (with real only)."""
    ks = sorted(summary["k"].astype(str).unique(), key=k_order)
    table = summary.pivot(index="test_set", columns="k", values="accuracy_mean")
    half = summary.pivot(index="test_set", columns="k", values="accuracy_ci95")
    rows = [{"test_set": t, "cells": [cell(table.loc[t, k], half.loc[t, k]) for k in ks]} for t in table.index]
    if ks == ["0"]:  # a real-only study: nothing to compare within it
        return {"ks": ks, "rows": rows, "verdicts": None, "gains": None}
    verdicts = []
    for test_set in [*cross_test, "real_test"]:
        if test_set not in table.index:
            continue
        row = table.loc[test_set]
        best = max([k for k in ks if k != SYNTHETIC_ONLY], key=lambda k: row[k])
        base = row.get("0", np.nan)
        paired = (
            gains[(gains["test_set"] == test_set) & (gains["k"].astype(str) == best)]
            if gains is not None and best != "0"
            else pd.DataFrame()
        )
        verdicts.append(
            {
                "test_set": test_set,
                "best": best,
                "best_cell": cell(row[best], half.loc[test_set, best]),
                "base_cell": cell(base, half.loc[test_set, "0"]),
                "points": f"{100 * (row[best] - base):+.1f}",
                "paired": {**paired.iloc[0].to_dict(), "n_tests": int(paired.iloc[0]["n_tests"])}
                if len(paired)
                else None,
            }
        )
    block = verdict_counts(gains) if gains is not None and len(gains) else None
    return {"ks": ks, "rows": rows, "verdicts": verdicts, "gains": block}


def fidelity_view(fidelity: pd.DataFrame | None) -> dict | None:
    if fidelity is None or not len(fidelity):
        return None
    per_emotion = fidelity.groupby("emotion")["fidelity"].mean()
    return {
        "mean": f"{100 * fidelity['fidelity'].mean():.1f}",
        "per_emotion": [{"emotion": e, "share": f"{100 * v:.0f}"} for e, v in per_emotion.items()],
    }


def quality_view(quality: pd.DataFrame | None) -> dict | None:
    if quality is None or not len(quality):
        return None
    mean = quality.groupby(["metric", "emotion"])["value"].mean()
    shrinkage = mean.get(("frechet_shrinkage", "all"), 0)
    return {
        "same": f"{mean[('same_identity_distance', 'all')]:.2f}",
        "other": f"{mean[('other_identity_distance', 'all')]:.2f}",
        "ratio": f"{mean[('identity_ratio', 'all')]:.2f}",
        "diversity_generated": f"{quality.loc[quality['metric'] == 'diversity_generated', 'value'].mean():.2f}",
        "diversity_real": f"{quality.loc[quality['metric'] == 'diversity_real', 'value'].mean():.2f}",
        "frechet": f"{mean[('frechet_distance', 'all')]:.1f}",
        "kid": f"{mean[('kid', 'all')]:.3g}" if ("kid", "all") in mean else None,
        "kid_sd": f"{mean[('kid_sd', 'all')]:.2g}" if ("kid_sd", "all") in mean else None,
        "prdc": {
            m: f"{mean[(m, 'all')]:.2f}" for m in ("precision", "recall", "density", "coverage") if (m, "all") in mean
        },
        "shrinkage": f"{shrinkage:.2f}" if shrinkage > 0 else None,
        "eigenfaces": {
            m: f"{mean[(f'{m}_eigenfaces', 'all')]:.3g}"
            for m in ("frechet_distance", "kid", "precision", "recall", "density", "coverage")
            if (f"{m}_eigenfaces", "all") in mean
        },
        "memorisation": {
            m: f"{mean[(m, 'all')]:.3g}"
            for m in ("nearest_training_distance", "real_nearest_distance", "near_copy_threshold")
            if (m, "all") in mean
        }
        | (
            {"near_copy_share": f"{100 * mean[('near_copy_share', 'all')]:.1f}"}
            if ("near_copy_share", "all") in mean
            else {}
        ),
    }


def selection_view(gains: pd.DataFrame | None, source: str) -> dict | None:
    """A selected arm against all of its translator's generated faces, paired at the same k."""
    if gains is None or not len(gains):
        return None
    significant = gains[gains["p_holm"] < 0.05]
    return {
        "arm": gains["arm"].iloc[0],
        "source": source,
        "n_tests": int(gains["n_tests"].max()),
        "grid": gain_grid(gains),
        "helped": int((significant["gain"] > 0).sum()),
        "hurt": int((significant["gain"] < 0).sum()),
        "n": len(gains),
        "unadjusted": int((gains["p_value"] < 0.05).sum()),
    }


def control_views(gains: pd.DataFrame | None) -> list[dict]:
    """One generated arm against each control at the same k: what the generated faces add beyond as many
    gradient steps, or as many augmented real faces."""
    if gains is None or not len(gains):
        return []
    return [
        {
            "control": control,
            "meaning": CONTROL_MEANING.get(control, control),
            "arm": group["arm"].iloc[0],
            "n_tests": int(group["n_tests"].max()),
            "grid": gain_grid(group),
            "verdicts": verdict_counts(group),
        }
        for control, group in gains.groupby("baseline", sort=False)
    ]


def kept_view(selection: pd.DataFrame | None, arm: str) -> dict | None:
    """How many generated faces a selected arm kept, per emotion."""
    if not arm.endswith(SELECTED_SUFFIX) or selection is None:
        return None
    kept = _of(selection, arm.removesuffix(SELECTED_SUFFIX))
    if kept is None or not len(kept):
        return None
    return {
        "after": int(kept["after"].sum()),
        "before": int(kept["before"].sum()),
        "per_emotion": [{"emotion": r.emotion, "share": f"{100 * r.kept_share:.0f}"} for r in kept.itertuples()],
    }


def table2_view(table_2: pd.DataFrame | None) -> dict | None:
    if table_2 is None or not len(table_2):
        return None
    test_sets = [
        c.removeprefix("acc_").removesuffix("_mean")
        for c in table_2.columns
        if c.startswith("acc_") and c.endswith("_mean")
    ]
    records = table_2.to_dict("records")

    def runs(column: str) -> list[dict]:
        return [
            {"arm": r["arm"], "k": r["k"], "seeds": r[column], "of": r["best_epoch_n_seeds"]}
            for r in records
            if r.get(column, 0) > 0
        ]

    return {
        "test_sets": test_sets,
        "rows": [
            {
                "arm": r["arm"],
                "k": r["k"],
                "train": cell(r["train_accuracy_mean"], r["train_accuracy_ci95"]),
                "cells": [cell(r[f"acc_{t}_mean"], r[f"acc_{t}_ci95"]) for t in test_sets],
                "epoch": f"{r['best_epoch_mean']:.1f}",
            }
            for r in records
        ],
        "at_chance": runs("seeds_at_chance"),
        "capped": runs("seeds_still_improving"),
    }


def table3_view(table_3: pd.DataFrame | None) -> dict | None:
    if table_3 is None or not len(table_3):
        return None
    sets = [c.removesuffix("_mean") for c in table_3.columns if c.endswith("_mean")]
    return {
        "sets": sets,
        "rows": [
            {"model": r["model"], "cells": [cell(r[f"{t}_mean"], r[f"{t}_ci95"]) for t in sets]}
            for r in table_3.to_dict("records")
        ],
    }


def baseline_view(summary: pd.DataFrame, gains: pd.DataFrame | None, baseline: str) -> dict:
    """A baseline architecture beside the paper CNN, both on real faces only, with their paired difference."""
    here = summary[summary["arm"].isin([REAL_ONLY, baseline])]
    rows = []
    for test_set, group in here.groupby("test_set"):
        cells = {r.arm: cell(r.accuracy_mean, r.accuracy_ci95) for r in group.itertuples()}
        paired = _of(gains, baseline) if gains is not None else None
        paired = paired[paired["test_set"] == test_set] if paired is not None else pd.DataFrame()
        rows.append(
            {
                "test_set": test_set,
                "real": cells.get(REAL_ONLY, "n/a"),
                "baseline": cells.get(baseline, "n/a"),
                "paired": gain_text(paired.iloc[0]) if len(paired) else "n/a",
            }
        )
    return {"name": baseline, "rows": rows}


def minority_change(r: dict, family: str) -> str:
    """metric before -> after (difference [95% interval], Holm p over the family, the words significant or not)."""
    p = (
        f"p_Holm = {p_text(r['p_holm'])} over the {int(r['n_tests'])} {family} of this metric"
        if not np.isnan(r["p_holm"])
        else "p n/a"
    )
    verdict = "significant at 5%" if r["p_holm"] < 0.05 else "not significant at 5%"
    return (
        f"{r['metric']} {r['baseline']:.4f} -> {r['with_added']:.4f} "
        f"({r['diff']:+.4f} [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}], {p}, {verdict})"
    )


def minority_view(config: dict, summary: pd.DataFrame, gains: pd.DataFrame) -> dict:
    """Study 2: each (translator, n) against no added faces (and against the oversampled control) on the same folds."""
    m = config["minority"]
    target = m["target"]

    def row(r: dict) -> dict:
        def one(metric: str) -> str:
            return cell(r.get(f"{metric}_mean", np.nan), r.get(f"{metric}_ci95", np.nan))

        stuck = r.get("folds_at_chance", np.nan)
        return {
            "translator": r["translator"],
            "n": r["n"],
            "accuracy": one("accuracy"),
            "macro_auc": one("macro_auc_ovr"),
            "precision": one(f"precision_{target}"),
            "auc": one(f"auc_{target}"),
            "at_chance": "n/a" if pd.isna(stuck) else int(stuck),
        }

    capped = summary[summary.get("folds_still_improving", pd.Series(0, index=summary.index)).fillna(0) > 0]
    if "p_holm" not in gains.columns:  # a table from before the correction: every test its own family
        gains = gains.assign(p_holm=gains["p_value"], n_tests=1)
    reference = gains["reference"] if "reference" in gains.columns else pd.Series("none", index=gains.index)
    shown = gains["metric"].isin(["macro_auc_ovr", f"precision_{target}"])
    return {
        "target": target,
        "dataset": m["dataset"],
        "folds": f"{m.get('repeats', 3)} x {m.get('folds', 10)}-fold",
        "oversampled": OVERSAMPLED,
        "chance_share": f"{100 * CHANCE_SHARE:.0f}",
        "rows": [row(r) for r in summary.sort_values(["n", "translator"]).to_dict("records")],
        "any_at_chance": bool(summary.get("folds_at_chance", pd.Series(dtype=float)).fillna(0).gt(0).any()),
        "capped": [
            {"translator": r["translator"], "n": r["n"], "folds": int(r["folds_still_improving"])}
            for r in capped.to_dict("records")
        ],
        "changes": [
            {**r, "change": minority_change(r, "settings")}
            for r in gains[shown & (reference == "none")].to_dict("records")
        ],
        "controlled": [
            {**r, "change": minority_change(r, "translators against the control")}
            for r in gains[shown & (reference == OVERSAMPLED)].to_dict("records")
        ],
    }


def cpu_view(cpu: dict) -> dict:
    """The CPU that made the report: bf16 results are bit-identical on one machine, not across CPUs whose bf16
    kernels differ (AMX, avx512_bf16 or neither)."""
    units = [f for f, present in cpu["bf16_flags"].items() if present and f.startswith(("amx", "avx512_bf16"))]
    return {**cpu, "bf16_units": units}


def gan_sets(config: dict) -> list[str]:
    """gan_train, each dataset that is also a real training set marked: the GANs saw only its training subjects."""
    shared = set(config["roles"]["real_train"])
    return [
        f"{d} (its training-split subjects only: it is also a real training set)" if d in shared else d
        for d in config["roles"]["gan_train"]
    ]


@dataclass(frozen=True)
class SummaryTables:
    """The report's tables summary.md is rendered from (the files aggregate_metrics and the per-translator rules
    wrote); all but the metrics summary may be absent."""

    summary: pd.DataFrame
    fidelity: pd.DataFrame | None = None
    gains: pd.DataFrame | None = None
    quality: pd.DataFrame | None = None
    selection: pd.DataFrame | None = None
    table_2: pd.DataFrame | None = None
    minority: tuple[pd.DataFrame, pd.DataFrame] | None = None
    table_3: pd.DataFrame | None = None
    selection_gain: pd.DataFrame | None = None
    control_gain: pd.DataFrame | None = None
    gan_run_gain: pd.DataFrame | None = None


def summary_markdown(config: dict, provenance: dict, tables: SummaryTables) -> str:
    """summary.md: what ran, with which config, and the headline numbers (mean ± 95% CI over seeds), one
    section per translator, each compared with the same real-only runs."""
    t = tables
    summary, fidelity, gains, quality, selection = t.summary, t.fidelity, t.gains, t.quality, t.selection
    table_2, minority, table_3 = t.table_2, t.minority, t.table_3
    selection_gain, control_gain = t.selection_gain, t.control_gain
    ks = sorted(summary["k"].astype(str).unique(), key=k_order)
    translators = translator_names(summary)
    cross_test = config["roles"]["cross_test"]
    arms = [
        {
            "name": arm,
            "real_only": arm == REAL_ONLY,
            "accuracy": accuracy(cross_test, with_baseline(summary, arm), _of(gains, arm)),
            "kept": kept_view(selection, arm),
            "selection": selection_view(_of(selection_gain, arm), translator_of(arm)),
            "controls": control_views(_of(control_gain, arm)),
            "fidelity": fidelity_view(_of(fidelity, arm)),
            "quality": quality_view(_of(quality, arm)),
            "gan_runs": gan_run_grid(_of(t.gan_run_gain, arm)),
        }
        for arm in translators or [REAL_ONLY]
    ]
    controls = [
        {
            "name": control,
            "meaning": CONTROL_MEANING.get(control, control),
            "accuracy": accuracy(cross_test, with_baseline(summary, control), _of(gains, control)),
        }
        for control in control_names(summary)
    ]
    precisions = (
        sorted(set(", ".join(table_2["precision"]).split(", ")))
        if table_2 is not None and "precision" in table_2
        else []
    )
    text = (
        _environment()
        .get_template(PAGE)
        .render(
            config=config,
            real_only=ks == ["0"],
            n_seeds=len(config["experiment"]["seeds"]),
            gan_sets=gan_sets(config),
            translators=translators,
            controls=control_names(summary),
            ks=ks,
            provenance=provenance,
            cpu=cpu_view(provenance["cpu"]) if "cpu" in provenance else None,
            precisions=precisions,
            precision_setting=config.get("classifier", {}).get("precision", "auto"),
            arms=arms,
            control_sections=controls,
            table_2=table2_view(table_2),
            table_3=table3_view(table_3),
            baselines=[baseline_view(summary, gains, b) for b in baseline_names(summary)],
            minority=minority_view(config, *minority) if minority is not None else None,
            has_quality=quality is not None and len(quality) > 0,
            chance=f"{100 / len(EMOTIONS):.1f}",
            chance_share=f"{100 * CHANCE_SHARE:.0f}",
            config_yaml=yaml.safe_dump(config, sort_keys=False).rstrip(),
        )
    )
    return _tidy(text)
