"""Rule cross_validate_minority: repeated stratified k-fold CV with n translated minority faces added (study 2)."""

from synthfer.seam import run_step
from synthfer.steps.minority import cross_validate_minority_step

run_step(snakemake, cross_validate_minority_step)  # noqa: F821 - snakemake is injected by Snakemake
