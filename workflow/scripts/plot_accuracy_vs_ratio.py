"""Rule plot_accuracy_vs_ratio: accuracy against k per test set, mean and the tables' 95% CI over seeds."""

from synthfer.seam import run_step
from synthfer.steps.report import plot_accuracy_vs_ratio_step

run_step(snakemake, plot_accuracy_vs_ratio_step)  # noqa: F821 - snakemake is injected by Snakemake
