"""Rule filter_ambiguous_faces: score every face out of fold and keep the confidently labelled share per class."""

from synthfer.seam import run_step
from synthfer.steps.filter import filter_ambiguous_faces

run_step(snakemake, filter_ambiguous_faces)  # noqa: F821 - snakemake is injected by Snakemake
