"""Rule cross_validate_minority: repeated stratified k-fold CV with n translated minority faces added (study 2)."""

from synthfer.seam import run_step, spin_briefly_when_threaded

spin_briefly_when_threaded(snakemake)  # noqa: F821 - first: torch reads the OpenMP spin count once, when it loads
from synthfer.steps.minority import cross_validate_minority_step  # noqa: E402

run_step(snakemake, cross_validate_minority_step)  # noqa: F821 - snakemake is injected by Snakemake
