"""Rule fetch_dataset: download (resumable, sha256-checked) or take a local archive, and unpack it safely."""

from synthfer.seam import run_step
from synthfer.steps.data import fetch_dataset

run_step(snakemake, fetch_dataset)  # noqa: F821 - snakemake is injected by Snakemake
