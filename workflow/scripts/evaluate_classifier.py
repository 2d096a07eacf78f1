"""Rule evaluate_classifier: predictions of one model on every test set, kept per face."""

from synthfer.seam import run_step, spin_briefly_when_threaded

spin_briefly_when_threaded(snakemake)  # noqa: F821 - first: torch reads the OpenMP spin count once, when it loads
from synthfer.steps.classify import evaluate_classifier_step  # noqa: E402

run_step(snakemake, evaluate_classifier_step)  # noqa: F821 - snakemake is injected by Snakemake
