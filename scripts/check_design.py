"""Rule check_design: the design checked against the prepared face tables before any GAN job starts."""

from synthfer.logs import run_logged
from synthfer.steps.data import check_design_step

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    check_design_step,
    dict(zip(sm.params.datasets, sm.input.tables)),
    sm.params.roles,
    sm.params.split,
    sm.params.generating,
    sm.params.allow_missing_emotions,
    sm.params.minority,
    sm.params.torchscript,
    sm.output[0],
)
