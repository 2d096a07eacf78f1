"""Rule aggregate_metrics: metrics per (k, seed, test set) and over seeds, from the kept predictions."""
from synthfer.report import aggregate, read_predictions
from synthfer.logs import run_logged

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(sm.log[0], sm.threads, lambda: aggregate(read_predictions(list(sm.input.predictions)), sm.output.metrics, sm.output.summary, sm.output.gains))
