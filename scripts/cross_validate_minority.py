"""Rule cross_validate_minority: repeated stratified k-fold CV with n translated minority faces added (study 2)."""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.minority import MinorityConfig
from synthfer.steps.minority import cross_validate_minority_step
from synthfer.train.classifier import ClassifierConfig

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    cross_validate_minority_step,
    Path(sm.input.faces[0]).parent,
    sm.wildcards.mtranslator,
    list(sm.input.translator),
    int(sm.wildcards.n),
    MinorityConfig(**sm.params.minority),
    ClassifierConfig(**sm.params.classifier),
    sm.params.device,
    sm.output.folds,
    gpus=getattr(sm.resources, "gpu", 0),
)
