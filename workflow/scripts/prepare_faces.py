"""Rule prepare_faces: read a dataset through its loader, align and crop every face, list the rejects."""

from synthfer.seam import run_step
from synthfer.steps.data import prepare_dataset

run_step(snakemake, prepare_dataset)  # noqa: F821 - snakemake is injected by Snakemake
