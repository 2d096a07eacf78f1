"""Rule split_subjects: pool the real training datasets and split them train/val/test by subject."""

from synthfer.seam import run_step
from synthfer.steps.data import split_real_faces

run_step(snakemake, split_real_faces)  # noqa: F821 - snakemake is injected by Snakemake
