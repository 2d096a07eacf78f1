"""Rule render_demo_dataset: draw one demo database to disk (images + annotations.csv)."""

from synthfer.data.demo import DemoDatabase
from synthfer.logs import run_logged
from synthfer.steps.data import render_demo_dataset

sm = snakemake  # noqa: F821 - injected by Snakemake
params = dict(sm.params.demo, intensity=tuple(sm.params.demo["intensity"]), emotions=tuple(sm.params.demo["emotions"]))
run_logged(sm.log[0], sm.threads, render_demo_dataset, DemoDatabase(**params), sm.output[0], sm.threads)
