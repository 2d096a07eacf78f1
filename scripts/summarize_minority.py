"""Rule summarize_minority: study 2's numbers over folds, and each setting against no added faces."""

from synthfer.logs import run_logged
from synthfer.steps.minority import summarize_minority

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    summarize_minority,
    list(sm.input.folds),
    sm.params.target,
    sm.output.summary,
    sm.output.gains,
)
