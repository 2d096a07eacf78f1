"""Rule evaluate_generated: how good are one translator's generated faces, as judged by classifiers trained on real faces only?"""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.steps.classify import evaluate_generated_faces

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    evaluate_generated_faces,
    sm.wildcards.translator,
    list(sm.input.models),
    sm.params.units,
    str(Path(sm.input.real_table).parent),
    sm.params.device,
    sm.output.fidelity,
    sm.output.quality,
    gpus=getattr(sm.resources, "gpu", 0),
)
