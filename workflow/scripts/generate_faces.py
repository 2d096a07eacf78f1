"""Rule generate_faces: one unit of new identities, each shown with all six emotions by one translator."""

from synthfer.seam import run_step
from synthfer.steps.generate import generate_unit

run_step(snakemake, generate_unit)  # noqa: F821 - snakemake is injected by Snakemake
