"""Rule select_generated: the faces of one generated unit that the real-only classifiers confirm."""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.selection import SelectionConfig
from synthfer.steps.classify import select_generated_step

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    select_generated_step,
    list(sm.input.models),
    str(Path(sm.input.images).parent),
    SelectionConfig(**sm.params.selection),
    sm.params.device,
    sm.output.images,
    sm.output.table,
    sm.output.counts,
    gpus=getattr(sm.resources, "gpu", 0),
)
