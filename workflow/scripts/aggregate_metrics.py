"""Rule aggregate_metrics: metrics per run and over seeds, the paired gains, Tables 2 and 3, from the kept predictions."""

from synthfer.seam import run_step
from synthfer.steps.report import aggregate_metrics_step

run_step(snakemake, aggregate_metrics_step)  # noqa: F821 - snakemake is injected by Snakemake
