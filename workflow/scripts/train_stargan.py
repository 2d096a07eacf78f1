"""Rule train_stargan: the expression translator, on the GAN-training faces."""

from synthfer.seam import run_step
from synthfer.steps.gan import train_stargan_step

run_step(snakemake, train_stargan_step)  # noqa: F821 - snakemake is injected by Snakemake
