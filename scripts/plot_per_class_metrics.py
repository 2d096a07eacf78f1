"""Rule plot_per_class_metrics: per-class precision, recall and F1 of the compared models (Table 3's rows)."""

import pandas as pd

from synthfer.labels import EMOTIONS
from synthfer.logs import run_logged
from synthfer.plots import plot_per_class_metrics

sm = snakemake  # noqa: F821 - injected by Snakemake


def main() -> None:
    models = pd.read_csv(sm.input.table3, dtype={"k": str})[["model", "translator", "k"]]
    plot_per_class_metrics(
        pd.read_csv(sm.input.summary, dtype={"k": str}),
        models,
        sm.output[0],
        list(EMOTIONS),
        list(sm.params.cross_test),
    )


run_logged(sm.log[0], sm.threads, main)
