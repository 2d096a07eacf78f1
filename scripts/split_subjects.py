"""Rule split_subjects: pool the real training datasets and split them train/val/test by subject."""

from synthfer.logs import run_logged
from synthfer.steps.data import split_real_faces

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    split_real_faces,
    sm.params.stores,
    sm.params.val,
    sm.params.test,
    sm.params.seed,
    sm.output.images,
    sm.output.table,
    stratify=sm.params.stratify,
)
