"""Rule assign_external_faces: another generator's faces dealt into the study's units."""

from synthfer.seam import run_step
from synthfer.steps.external import assign_external_faces_step

run_step(snakemake, assign_external_faces_step)  # noqa: F821 - snakemake is injected by Snakemake
