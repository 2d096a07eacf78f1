"""Rule evaluate_classifier: predictions of one model on every test set, kept per face."""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.steps.classify import evaluate_classifier_step

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    evaluate_classifier_step,
    sm.input.model,
    str(Path(sm.input.real_table).parent),
    sm.params.units,
    sm.params.cross,
    sm.wildcards.k,
    sm.params.device,
    sm.output.predictions,
    arm=sm.wildcards.arm,
    gpus=getattr(sm.resources, "gpu", 0),
)
