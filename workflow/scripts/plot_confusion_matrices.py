"""Rule plot_confusion_matrices: one heatmap per test set and ratio, counts over seeds."""

from synthfer.seam import run_step
from synthfer.steps.report import plot_confusion_matrices_step

run_step(snakemake, plot_confusion_matrices_step)  # noqa: F821 - snakemake is injected by Snakemake
