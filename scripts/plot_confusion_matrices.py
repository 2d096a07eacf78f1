"""Rule plot_confusion_matrices: one heatmap per test set and ratio, counts over seeds."""

from synthfer.logs import run_logged
from synthfer.report import confusion_figures, read_predictions

sm = snakemake  # noqa: F821 - injected by Snakemake
run_logged(sm.log[0], sm.threads, lambda: confusion_figures(read_predictions(list(sm.input.predictions)), sm.output[0]))
