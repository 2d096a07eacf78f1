"""Rule summarize_minority: study 2's numbers over folds, and each setting against no added faces."""

from synthfer.seam import run_step
from synthfer.steps.minority import summarize_minority

run_step(snakemake, summarize_minority)  # noqa: F821 - snakemake is injected by Snakemake
