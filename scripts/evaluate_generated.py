"""Rule evaluate_generated: do real-only classifiers recognise the emotion each face was generated as?"""
from synthfer.io import atomic_write_csv
from synthfer.logs import run_logged
from synthfer.steps.classify import expression_fidelity

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(sm.log[0], sm.threads, lambda: atomic_write_csv(expression_fidelity(list(sm.input.models), sm.params.units, sm.params.device), sm.output[0]), gpus=getattr(sm.resources, "gpu", 0))
