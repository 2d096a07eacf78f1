"""Rule train_stargan: the expression translator, on the GAN-training faces."""

from synthfer.seam import run_step, spin_briefly_when_threaded

spin_briefly_when_threaded(snakemake)  # noqa: F821 - first: torch reads the OpenMP spin count once, when it loads
from synthfer.steps.gan import train_stargan_step  # noqa: E402

run_step(snakemake, train_stargan_step)  # noqa: F821 - snakemake is injected by Snakemake
