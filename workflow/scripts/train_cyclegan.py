"""Rule train_cyclegan: one Neutral -> emotion translator (CycleGAN or ECycleGAN) on the GAN-training faces."""

from synthfer.seam import run_step
from synthfer.steps.gan import train_cyclegan_step

run_step(snakemake, train_cyclegan_step)  # noqa: F821 - snakemake is injected by Snakemake
