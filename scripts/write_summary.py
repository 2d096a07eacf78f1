"""Rule write_summary: summary.md (what ran, the config, the headline numbers), provenance.json, and the
per-translator fidelity, quality and selection tables gathered into the report."""
import pandas as pd

from synthfer.io import atomic_write_json
from synthfer.logs import run_logged
from synthfer.provenance import provenance
from synthfer.report import collect_selection_counts, collect_tables, write_summary

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
    table_2 = pd.read_csv(sm.input.table2, dtype={"k": str})
    table_3 = pd.read_csv(sm.input.table3, dtype={"k": str})
    minority = tuple(pd.read_csv(p) for p in sm.input.minority) if sm.input.minority else None
    write_summary(sm.config, summary, fidelity, prov, sm.output.summary, gains, quality, selection, table_2, minority, table_3,
                  selection_gains)


run_logged(sm.log[0], sm.threads, main)
