"""Rule train_identity_gan: the identity source, on the neutral GAN-training faces."""

from synthfer.seam import run_step
from synthfer.steps.gan import train_identity_step

run_step(snakemake, train_identity_step)  # noqa: F821 - snakemake is injected by Snakemake
