"""Rule prepare_faces: read a dataset through its loader, align and crop every face, list the rejects."""

from synthfer.data.prepare import PrepareConfig
from synthfer.logs import run_logged
from synthfer.steps.data import prepare_dataset

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log.log,
    sm.threads,
    prepare_dataset,
    sm.wildcards.dataset,
    sm.params.loader,
    sm.input.raw,
    sm.params.options,
    PrepareConfig(**sm.params.preprocess),
    sm.output.images,
    sm.output.table,
    sm.output.rejected,
    sm.threads,
    sm.log.rejected,
    sm.params.labels,
)
