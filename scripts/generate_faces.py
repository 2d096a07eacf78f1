"""Rule generate_faces: one unit of new identities, each shown with all six emotions by one translator."""

from synthfer.identities import IdentityConfig
from synthfer.logs import run_logged
from synthfer.steps.generate import generate_unit

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    generate_unit,
    sm.input.real,
    IdentityConfig(**sm.params.identities),
    sm.params.identity_paths,
    sm.wildcards.translator,
    list(sm.input.translator),
    int(sm.wildcards.unit),
    sm.params.image_size,
    tuple(sm.params.eyes),
    sm.params.device,
    sm.output.images,
    sm.output.table,
    gpus=getattr(sm.resources, "gpu", 0),
)
