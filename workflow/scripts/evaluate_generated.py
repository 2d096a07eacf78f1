"""Rule evaluate_generated: how good are one translator's generated faces, as judged by classifiers trained on real faces only?"""

from synthfer.seam import run_step
from synthfer.steps.classify import evaluate_generated_faces

run_step(snakemake, evaluate_generated_faces)  # noqa: F821 - snakemake is injected by Snakemake
