"""Rule restrict_gan_faces: a real training dataset's faces for the GANs, its training-split subjects only."""

from pathlib import Path

from synthfer.logs import run_logged
from synthfer.steps.data import restrict_to_training_subjects

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    restrict_to_training_subjects,
    Path(sm.input.table).parent,
    sm.input.split,
    sm.output.images,
    sm.output.table,
)
