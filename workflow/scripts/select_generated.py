"""Rule select_generated: the faces of one generated unit that the real-only classifiers confirm."""

from synthfer.seam import run_step
from synthfer.steps.classify import select_generated_step

run_step(snakemake, select_generated_step)  # noqa: F821 - snakemake is injected by Snakemake
