"""Rule check_memorisation: does a GAN run copy its training faces?"""

from synthfer.seam import run_step
from synthfer.steps.memorisation import check_memorisation_step

run_step(snakemake, check_memorisation_step)  # noqa: F821 - snakemake is injected by Snakemake
