"""Rule train_classifiers_stacked: every seed of one ratio in one job (experiment.stack_seeds)."""

from synthfer.seam import run_step, spin_briefly_when_threaded

spin_briefly_when_threaded(snakemake)  # noqa: F821 - first: torch reads the OpenMP spin count once, when it loads
from synthfer.steps.classify import train_classifiers_stacked_step  # noqa: E402

run_step(snakemake, train_classifiers_stacked_step)  # noqa: F821 - snakemake is injected by Snakemake
