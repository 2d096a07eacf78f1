"""Rule write_summary: summary.md, the report's inline pages and answer, provenance.json, the gathered quality tables."""

from synthfer.seam import run_step
from synthfer.steps.report import write_summary_step

run_step(snakemake, write_summary_step)  # noqa: F821 - snakemake is injected by Snakemake
