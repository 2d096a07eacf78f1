"""Rule balance_selected: one unit's selected faces resampled to the unselected unit's class counts."""

from synthfer.seam import run_step
from synthfer.steps.classify import balance_selected_step

run_step(snakemake, balance_selected_step)  # noqa: F821 - snakemake is injected by Snakemake
