"""Rule train_identity_gan: the identity source, on the neutral GAN-training faces."""

from synthfer.seam import run_step, spin_briefly_when_threaded

spin_briefly_when_threaded(snakemake)  # noqa: F821 - first: torch reads the OpenMP spin count once, when it loads
from synthfer.steps.gan import train_identity_step  # noqa: E402

run_step(snakemake, train_identity_step)  # noqa: F821 - snakemake is injected by Snakemake
