"""Rule plot_samples: generated faces, one row per identity, one column per emotion (neutral source first)."""

from synthfer.seam import run_step
from synthfer.steps.report import plot_samples_step

run_step(snakemake, plot_samples_step)  # noqa: F821 - snakemake is injected by Snakemake
