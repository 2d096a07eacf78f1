"""Rule check_design: the design checked against the prepared face tables before any GAN job starts."""

from synthfer.seam import run_step
from synthfer.steps.data import check_design_step

run_step(snakemake, check_design_step)  # noqa: F821 - snakemake is injected by Snakemake
