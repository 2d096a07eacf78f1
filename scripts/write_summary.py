"""Rule write_summary: summary.md (what ran, the config, the headline numbers), provenance.json, and the
per-translator fidelity, quality and selection tables gathered into the report."""

import pandas as pd

from synthfer.io import atomic_write_json, atomic_write_text
from synthfer.logs import run_logged
from synthfer.provenance import provenance
from synthfer.report import collect_selection_counts, collect_tables, write_summary
from synthfer.report_html import answer_rst, markdown_page, ratio_order, write_table_page

sm = snakemake  # noqa: F821 - injected by Snakemake


def main() -> None:
    prov = provenance()
    atomic_write_json({**prov, "config": sm.config}, sm.output.provenance)
    fidelity = collect_tables(list(sm.input.fidelity), sm.output.fidelity)
    quality = collect_tables(list(sm.input.quality), sm.output.quality)
    selection = collect_selection_counts(list(sm.input.selection), sm.output.selection)
    summary = pd.read_csv(sm.input.summary, dtype={"k": str})
    gains = pd.read_csv(sm.input.gains, dtype={"k": str})
    selection_gains = pd.read_csv(sm.input.selection_gains, dtype={"k": str})
    control_gains = pd.read_csv(sm.input.control_gains, dtype={"k": str})
    table_2 = pd.read_csv(sm.input.table2, dtype={"k": str})
    table_3 = pd.read_csv(sm.input.table3, dtype={"k": str})
    minority = tuple(pd.read_csv(p) for p in sm.input.minority) if sm.input.minority else None
    text = write_summary(
        sm.config,
        summary,
        fidelity,
        prov,
        sm.output.summary,
        gains,
        quality,
        selection,
        table_2,
        minority,
        table_3,
        selection_gains,
        control_gains,
    )
    # what report.html shows inline: the summary and the main tables as HTML, the answer atop the page
    atomic_write_text(markdown_page(text, "synthfer summary"), sm.output.summary_html)
    atomic_write_text(answer_rst(sm.config, gains, sm.params.target_effect, control_gains), sm.output.answer)
    write_table_page(
        ratio_order(gains),
        "Paired gains over real only",
        sm.output.gains_html,
        "Gain, 95% interval and p with seeds and test subjects as random units; Holm p and BH q within each family; "
        "mde: minimal detectable effect at 80% power; seeds_for_target: seeds the target gain needs.",
    )
    write_table_page(
        ratio_order(control_gains),
        "Generated faces against the controls at the same k",
        sm.output.control_gains_html,
        "Each generated arm minus each control arm (real-steps: as many gradient steps on real faces; real-augmented: as many "
        "augmented real faces), paired the same way; a family per (arm, control), Holm within it.",
    )
    write_table_page(table_2, "Table 2: training and test accuracy per run", sm.output.table2_html)
    write_table_page(table_3, "Table 3: cross-database accuracy of the compared models", sm.output.table3_html)


run_logged(sm.log[0], sm.threads, main)
