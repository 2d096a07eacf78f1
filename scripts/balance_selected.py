"""Rule balance_selected: one unit's selected faces resampled to the unselected unit's class counts."""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.steps.classify import balance_selected_step

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    balance_selected_step,
    str(Path(sm.input.images).parent),
    sm.input.unselected_table,
    int(sm.wildcards.unit),
    sm.output.images,
    sm.output.table,
    sm.output.counts,
)
