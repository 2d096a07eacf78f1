"""Rule filter_ambiguous_faces: score every face out of fold and keep the confidently labelled share per class."""

from synthfer.ambiguity import AmbiguityFilterConfig
from synthfer.logs import run_logged
from synthfer.steps.filter import filter_ambiguous_faces

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    filter_ambiguous_faces,
    sm.input.images,
    sm.input.table,
    AmbiguityFilterConfig(**sm.params.filter),
    sm.params.device,
    sm.output.images,
    sm.output.table,
    sm.output.confidence,
    sm.output.counts,
    gpus=getattr(sm.resources, "gpu", 0),
)
