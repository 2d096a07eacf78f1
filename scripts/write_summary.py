"""Rule write_summary: summary.md (what ran, the config, the headline numbers) and provenance.json."""
import pandas as pd

from synthfer.io import atomic_write_json
from synthfer.provenance import provenance
from synthfer.report import write_summary
from synthfer.logs import run_logged

sm = snakemake  # noqa: F821 - injected by Snakemake


def main() -> None:
    prov = provenance()
    atomic_write_json({**prov, "config": sm.config}, sm.output.provenance)
    summary = pd.read_csv(sm.input.summary, dtype={"k": str})
    write_summary(sm.config, summary, pd.read_csv(sm.input.fidelity), prov, sm.output.summary, pd.read_csv(sm.input.gains, dtype={"k": str}), pd.read_csv(sm.input.quality))


run_logged(sm.log[0], sm.threads, main)
