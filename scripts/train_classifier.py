"""Rule train_classifier: the paper's CNN on real + k units of generated faces, one seed."""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.steps.classify import train_classifier_step
from synthfer.train.classifier import ClassifierConfig

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    train_classifier_step,
    str(Path(sm.input.real_table).parent),
    sm.params.units,
    sm.wildcards.k,
    int(sm.wildcards.seed),
    ClassifierConfig(**sm.params.classifier),
    sm.params.device,
    sm.output.model,
    sm.output.history,
    preprocess=sm.params.preprocess,
    arm=sm.wildcards.arm,
    gpus=getattr(sm.resources, "gpu", 0),
)
