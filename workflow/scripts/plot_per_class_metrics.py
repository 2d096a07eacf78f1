"""Rule plot_per_class_metrics: per-class precision, recall and F1 of the compared models (Table 3's rows)."""

from synthfer.seam import run_step
from synthfer.steps.report import plot_per_class_metrics_step

run_step(snakemake, plot_per_class_metrics_step)  # noqa: F821 - snakemake is injected by Snakemake
