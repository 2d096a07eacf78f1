"""Rule generate_faces: one unit of new identities, each shown with all six emotions."""
from synthfer.logs import run_logged
from synthfer.steps.generate import generate_unit

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0], sm.threads, generate_unit,
    sm.input.real, sm.input.identity, sm.input.translator, int(sm.wildcards.unit), sm.params.seed, sm.params.device,
    sm.output.images, sm.output.table,
    gpus=getattr(sm.resources, "gpu", 0),
)
