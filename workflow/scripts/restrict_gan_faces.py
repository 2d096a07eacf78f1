"""Rule restrict_gan_faces: a real training dataset's faces for the GANs, its training-split subjects only."""

from synthfer.seam import run_step
from synthfer.steps.data import restrict_to_training_subjects

run_step(snakemake, restrict_to_training_subjects)  # noqa: F821 - snakemake is injected by Snakemake
