"""Rule train_classifier: the paper's CNN on real + k units of generated faces, one seed."""

from synthfer.seam import run_step, spin_briefly_when_threaded

spin_briefly_when_threaded(snakemake)  # noqa: F821 - first: torch reads the OpenMP spin count once, when it loads
from synthfer.steps.classify import train_classifier_step  # noqa: E402

run_step(snakemake, train_classifier_step)  # noqa: F821 - snakemake is injected by Snakemake
