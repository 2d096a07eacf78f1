"""Rule train_classifier: the paper's CNN on real + k units of generated faces, one seed."""

from synthfer.seam import run_step
from synthfer.steps.classify import train_classifier_step

run_step(snakemake, train_classifier_step)  # noqa: F821 - snakemake is injected by Snakemake
