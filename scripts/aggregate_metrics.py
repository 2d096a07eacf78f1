"""Rule aggregate_metrics: metrics per (translator, k, seed, test set) and over seeds from the kept predictions;
paired gains; the paper's Table 2 (train and test accuracy per k) and a Table 3-style cross-database
comparison, with spread."""

import pandas as pd

from synthfer.logs import run_logged
from synthfer.report import aggregate, read_histories, read_predictions, table2, table3

sm = snakemake  # noqa: F821 - injected by Snakemake


def main() -> None:
    metrics = aggregate(
        read_predictions(list(sm.input.predictions)),
        sm.output.metrics,
        sm.output.summary,
        sm.output.gains,
        sm.output.selection_gains,
        sm.params.target_effect,
        sm.output.control_gains,
    )
    table2(metrics, read_histories(list(sm.input.histories)), sm.output.table2)
    table3(pd.read_csv(sm.output.summary, dtype={"k": str}), list(sm.params.cross_test), sm.output.table3)


run_logged(sm.log[0], sm.threads, main)
