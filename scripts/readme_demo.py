"""Write the demo's numbers into docs/demo.md from a finished run's report: nothing in that block is typed by hand.

usage: python scripts/readme_demo.py [--report results/report] [--readme docs/demo.md]

Replaces the text between the markers `<!-- demo-results:start -->` and `<!-- demo-results:end -->`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from synthfer.arms import SYNTHETIC_ONLY, control_arms, generated_arms, k_order

START, END = "<!-- demo-results:start -->", "<!-- demo-results:end -->"
TEST_SET_ROLES = {"in_distribution": "the paper's test set", "real_test": "held-out real subjects"}


def _cell(mean: float, half: float) -> str:
    return (
        "n/a"
        if pd.isna(mean)
        else (f"{100 * mean:.1f} ± {100 * half:.1f}" if not pd.isna(half) else f"{100 * mean:.1f}")
    )


def _gain(r: pd.Series) -> str:
    p = "< 0.001" if r["p_holm"] < 0.001 else f"{r['p_holm']:.2g}"
    return f"{100 * r['gain']:+.1f} [{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}], p_Holm {p}, MDE {100 * r['mde']:.1f}: {r['verdict']}"


def _needed(g: pd.DataFrame, points: float) -> str:
    """What a target-sized gain would need: GAN runs where the run is in the test, seeds where it is not."""
    runs = g["gan_runs_for_target"] if "gan_runs_for_target" in g else pd.Series(np.nan, index=g.index)
    parts = []
    for column, unit, rows in (
        ("gan_runs_for_target", "GAN runs (where the GAN run is in the test)", runs.notna()),
        ("seeds_for_target", "seeds (where the test has no GAN-run term)", runs.isna()),
    ):
        if not rows.any():
            continue
        needed = g.loc[rows, column].replace(np.inf, np.nan)
        span = f"{int(needed.min())} to {int(needed.max())}" if needed.notna().any() else "more than 1000"
        if needed.isna().any() and needed.notna().any():
            span += " (some: more than 1000, the test subjects limit them)"
        parts.append(f"{unit} {span}")
    return f"A {points:.0f}-point gain would need " + "; ".join(parts)


def _runs_line(config: dict) -> str:
    runs = int(config["experiment"].get("gan_runs", 1))
    if runs > 1:
        return (
            f"every GAN trained {runs} times, and the intervals of generated arms treat the GAN run as a random unit, "
            "so that they hold for the method rather than for one trained GAN."
        )
    return "one GAN run: the intervals hold for these trained GANs, not for the method."


def demo_block(report: Path) -> str:
    prov = json.loads((report / "provenance.json").read_text())
    config = prov["config"]
    summary = pd.read_csv(report / "metrics_summary.csv", dtype={"k": str})
    gains = pd.read_csv(report / "paired_gains.csv", dtype={"k": str})
    cpu = prov.get("cpu", {})
    units = [f for f, present in cpu.get("bf16_flags", {}).items() if present and f.startswith(("amx", "avx512_bf16"))]
    seeds = config["experiment"]["seeds"]
    lines = [
        f"Measured by `make run` (synthfer {prov.get('synthfer', '?')}) on {cpu.get('model', 'an unrecorded CPU')} ({cpu.get('logical_cpus', '?')} "
        f"logical CPUs, bf16 units: {', '.join(units) or 'none'}; GPU: {prov['cuda']}), {len(seeds)} seeds; written here by "
        "`python scripts/readme_demo.py` from `results/report/`. These are one machine's numbers: a CPU with other bf16 or "
        "vector units trains other GANs, and accuracies move by several points (synthetic only the most); "
        f"{_runs_line(config)}",
        "",
    ]
    run_gains = report / "gan_run_gains.csv"
    per_run = pd.read_csv(run_gains, dtype={"k": str}) if run_gains.exists() else pd.DataFrame()
    cross = list(config["roles"]["cross_test"])
    order = [*cross, "real_test", "in_distribution"]
    for translator in [*generated_arms(set(summary["arm"])), *control_arms(set(summary["arm"]))]:
        rows = summary[summary["arm"].isin([translator, "real"])]
        ks = sorted(rows["k"].unique(), key=k_order)
        lines += [
            f"Accuracy (%, mean ± 95% CI over seeds), arm `{translator}`:",
            "",
            "| test set | "
            + " | ".join(
                "real only (k=0)" if k == "0" else ("synthetic only" if k == SYNTHETIC_ONLY else f"k={k}") for k in ks
            )
            + " |",
            "|---|" + "---|" * len(ks),
        ]
        for test_set in [t for t in order if t in set(rows["test_set"])]:
            at = rows[rows["test_set"] == test_set].set_index("k")
            role = "cross-database" if test_set in cross else TEST_SET_ROLES.get(test_set, "")
            lines.append(
                f"| `{test_set}` ({role}) | "
                + " | ".join(
                    _cell(at.loc[k, "accuracy_mean"], at.loc[k, "accuracy_ci95"]) if k in at.index else "n/a"
                    for k in ks
                )
                + " |"
            )
        g = gains[gains["arm"] == translator]
        if len(g):
            lines += [
                "",
                f"Paired gain over real only (points: gain [95% interval], Holm p within the test set's ratio grid, minimal detectable "
                f"effect at 80% power, verdict at a target of {100 * config.get('report', {}).get('target_effect', 0.05):.0f} points):",
                "",
                "| test set | k | gain |",
                "|---|---|---|",
            ]
            for r in g.sort_values(["test_set", "k"]).to_dict("records"):
                lines.append(f"| `{r['test_set']}` | {r['k']} | {_gain(pd.Series(r))} |")
            mine = per_run[per_run["arm"] == translator] if len(per_run) else per_run
            if len(mine):
                runs = sorted(mine["gan_run"].unique())
                lines += [
                    "",
                    "Each GAN run's gain (points, that run's seeds only) and their sd:",
                    "",
                    "| test set | k | " + " | ".join(f"run {r}" for r in runs) + " | sd |",
                    "|---|---|" + "---|" * (len(runs) + 1),
                ]
                for (test_set, k), part in mine.groupby(["test_set", "k"]):
                    values = part.set_index("gan_run")["gain"]
                    lines.append(
                        f"| `{test_set}` | {k} | "
                        + " | ".join(f"{100 * values[r]:+.1f}" if r in values else "n/a" for r in runs)
                        + f" | {100 * values.std():.1f} |"
                    )
            counts = g["verdict"].value_counts()
            lines += [
                "",
                "Verdicts: "
                + ", ".join(f"{n} {v}" for v, n in counts.items())
                + f" of {len(g)}"
                + (
                    " (with Holm over the whole study: "
                    + ", ".join(f"{n} {v}" for v, n in g["verdict_study"].value_counts().items())
                    + ")"
                    if "verdict_study" in g
                    else ""
                )
                + ". "
                + _needed(g, 100 * config.get("report", {}).get("target_effect", 0.05))
                + ".",
                "",
            ]
    selection = report / "selection_gains.csv"
    if selection.exists() and len(sel := pd.read_csv(selection, dtype={"k": str})):
        counts = sel["verdict"].value_counts()
        lines += [
            f"Selection (`{sel['arm'].iloc[0]}` against all of its translator's faces at the same k): "
            + ", ".join(f"{n} {v}" for v, n in counts.items())
            + f" of {len(sel)} comparisons (Holm over all of them); "
            f"gains {100 * sel['gain'].min():+.1f} to {100 * sel['gain'].max():+.1f} points.",
            "",
        ]
    controls = report / "control_gains.csv"
    if controls.exists() and len(con := pd.read_csv(controls, dtype={"k": str})):
        lines += [
            "Generated faces against the controls at the same k (points: gain [95% interval], Holm p within each (arm, control) family, "
            "MDE, verdict):",
            "",
            "| arm | control | test set | k | gain |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| `{r['arm']}` | `{r['baseline']}` | `{r['test_set']}` | {r['k']} | {_gain(pd.Series(r))} |"
            for r in con.sort_values(["arm", "baseline", "test_set", "k"]).to_dict("records")
        ]
        lines.append("")
    fidelity = report / "generated_fidelity.csv"
    if fidelity.exists() and len(fid := pd.read_csv(fidelity)):
        lines += [
            "Expression fidelity (share of generated faces the real-only classifiers assign to the intended emotion): "
            + ", ".join(f"`{t}` {100 * v:.0f}%" for t, v in fid.groupby("translator")["fidelity"].mean().items())
            + " (chance 17%).",
            "",
        ]
    minority, minority_gains = report / "minority.csv", report / "minority_gains.csv"
    if minority.exists() and minority_gains.exists():
        mg = pd.read_csv(minority_gains)
        target = config["minority"]["target"]
        auc = mg[mg["metric"] == "macro_auc_ovr"]
        lines += [
            f"Study 2 (`{config['minority']['dataset']}`, {config['minority'].get('repeats', 3)} x {config['minority'].get('folds', 10)} folds, "
            f"{target} faces added): macro AUC "
            + "; ".join(
                f"`{r['translator']}` n={r['n']}"
                + (f" vs `{r['reference']}`" if r.get("reference", "none") != "none" else "")
                + f": {100 * r['baseline']:.1f} -> {100 * r['with_added']:.1f} (p_Holm {r['p_holm']:.2g})"
                for r in auc.to_dict("records")
            )
            + ".",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, default=Path("results/report"))
    parser.add_argument("--readme", type=Path, default=Path("docs/demo.md"))
    args = parser.parse_args()
    text = args.readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{args.readme}: the markers {START} and {END} are missing")
    block = demo_block(args.report)
    args.readme.write_text(
        re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{block}{END}", text, flags=re.S)
    )
    print(block)


if __name__ == "__main__":
    main()
