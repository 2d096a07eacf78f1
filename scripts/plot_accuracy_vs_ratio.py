"""Rule plot_accuracy_vs_ratio: accuracy against k per test set, mean and the tables' 95% CI over seeds."""

import pandas as pd

from synthfer.logs import run_logged
from synthfer.plots import plot_accuracy_vs_ratio

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(
    sm.log[0],
    sm.threads,
    lambda: plot_accuracy_vs_ratio(
        pd.read_csv(sm.input.summary, dtype={"k": str}), sm.output[0], list(sm.params.cross_test)
    ),
)
