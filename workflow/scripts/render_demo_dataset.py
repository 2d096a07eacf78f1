"""Rule render_demo_dataset: draw one demo database to disk (images + annotations.csv)."""

from synthfer.seam import run_step
from synthfer.steps.demo import render_demo_dataset

run_step(snakemake, render_demo_dataset)  # noqa: F821 - snakemake is injected by Snakemake
