"""Rule evaluate_classifiers_stacked: every seed of one ratio's predictions in one job (experiment.stack_seeds)."""

from synthfer.seam import run_step
from synthfer.steps.classify import evaluate_classifiers_stacked_step

run_step(snakemake, evaluate_classifiers_stacked_step)  # noqa: F821 - snakemake is injected by Snakemake
