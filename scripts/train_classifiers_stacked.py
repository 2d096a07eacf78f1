"""Rule train_classifiers_stacked: every seed of one ratio in one job (experiment.stack_seeds)."""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.steps.classify import train_classifiers_stacked_step
from synthfer.train.classifier import ClassifierConfig

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    train_classifiers_stacked_step,
    str(Path(sm.input.real_table).parent),
    sm.params.units,
    sm.wildcards.k,
    sm.params.seeds,
    ClassifierConfig(**sm.params.classifier),
    sm.params.device,
    list(sm.output.model),
    list(sm.output.history),
    preprocess=sm.params.preprocess,
    arm=sm.wildcards.arm,
    gpus=getattr(sm.resources, "gpu", 0),
)
