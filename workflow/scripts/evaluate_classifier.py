"""Rule evaluate_classifier: predictions of one model on every test set, kept per face."""

from synthfer.seam import run_step
from synthfer.steps.classify import evaluate_classifier_step

run_step(snakemake, evaluate_classifier_step)  # noqa: F821 - snakemake is injected by Snakemake
