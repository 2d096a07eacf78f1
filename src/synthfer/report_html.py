"""What Snakemake's HTML report shows inline: the summary as HTML, the answer as reStructuredText for the
workflow description, and tables as HTML (the report renders images, HTML and PDF inline; a .md or .csv is
only a download)."""

from __future__ import annotations

import os

import pandas as pd

from synthfer.arms import SYNTHETIC_ONLY, control_arms, generated_arms, k_order
from synthfer.inference import VERDICTS
from synthfer.io import atomic_write_text

STYLE = """<style>
body { font-family: system-ui, sans-serif; font-size: 14px; line-height: 1.45; max-width: 60em; margin: 1em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { background: #f5f5f5; padding: 0 3px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; }
</style>"""


def markdown_page(markdown_text: str, title: str) -> str:
    """A self-contained HTML page from markdown (Python-Markdown with its tables and fenced-code extensions)."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"], output_format="html")
    return f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title>{STYLE}</head><body>\n{body}\n</body></html>\n"


def table_page(table: pd.DataFrame, title: str, note: str = "") -> str:
    """A CSV table as an HTML page (pandas' to_html), numbers rounded for reading; the CSV keeps full precision."""
    shown = table.copy()
    for column in shown.select_dtypes("float").columns:
        shown[column] = shown[column].round(4)
    html = shown.to_html(index=False, na_rep="", border=0)
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title>{STYLE}</head><body>\n<h1>{title}</h1>\n"
        f"{f'<p>{note}</p>' if note else ''}\n{html}\n</body></html>\n"
    )


def write_table_page(table: pd.DataFrame, title: str, out: str | os.PathLike, note: str = "") -> None:
    atomic_write_text(table_page(table, title, note), out)


def _gain_rst(r: dict) -> str:
    if pd.isna(r.get("p_holm")):
        return f"{100 * r['gain']:+.1f} points (no test: one seed, or no spread at all)"
    p = "< 0.001" if r["p_holm"] < 0.001 else f"{r['p_holm']:.3g}"
    return (
        f"{100 * r['gain']:+.1f} points, 95% interval [{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}], Holm-adjusted p {p}, "
        f"minimal detectable effect {100 * r['mde']:.1f} points: **{r['verdict']}**"
    )


def _said(table: pd.DataFrame) -> str:
    counts = table["verdict"].value_counts()
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts)


def answer_rst(config: dict, gains: pd.DataFrame, target: float, controls: pd.DataFrame | None = None) -> str:
    """The verdict, in reStructuredText for the report's workflow description: per arm and test set the best k
    against real only (chosen on that test set, so Holm-adjusted over its ratio grid), the counts, and the
    generated arms against the controls."""
    if gains is None or not len(gains) or "verdict" not in gains.columns:
        return "This run compares no arms (a real-only study): there is no gain to judge.\n"
    lines = []
    test_sets = [t for t in [*config["roles"]["cross_test"], "real_test"] if t in set(gains["test_set"])]
    ratios = gains[gains["family"].astype(str).str.startswith("ratios")]  # not the baseline architectures
    present = set(ratios["arm"])
    for translator in [*generated_arms(present), *control_arms(present)]:
        rows = ratios[(ratios["arm"] == translator) & (ratios["k"].astype(str) != SYNTHETIC_ONLY)]
        for test_set in test_sets:
            here = rows[rows["test_set"] == test_set]
            if not len(here):
                continue
            best = here.loc[here["gain"].idxmax()].to_dict()
            lines.append(
                f"- ``{translator}`` on ``{test_set}``: best k = {best['k']} (chosen on this test set): {_gain_rst(best)}"
            )
    tested = gains[gains["mde"].notna()]
    lines += [
        "",
        f"Over all {len(gains)} comparisons with real only ({gains['family'].nunique()} families, Holm within each): {_said(gains)}. "
        f"The target effect is {100 * target:.0f} points (``report.target_effect``).",
    ]
    if len(tested):
        lines.append(
            f"The minimal detectable effect at 80% power is {100 * tested['mde'].min():.1f} to {100 * tested['mde'].max():.1f} points at "
            f'{int(tested["n_seeds"].max())} seeds: "inconclusive" means this design cannot tell a target-sized gain from none.'
        )
    if controls is not None and len(controls) and "verdict" in controls.columns:
        for (arm, control), group in controls.groupby(["arm", "baseline"]):
            lines += [
                "",
                f"``{arm}`` against the control ``{control}`` at the same k ({len(group)} comparisons, Holm within them): {_said(group)}.",
            ]
    return "\n".join(lines) + "\n"


def ratio_order(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(
        [c for c in ("arm", "test_set") if c in table.columns] + ["k"],
        key=lambda s: s.map(k_order) if s.name == "k" else s,
    )
