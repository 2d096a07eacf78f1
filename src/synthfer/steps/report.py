"""Workflow steps of the report: metrics and tables from the kept predictions, the figures, the summary.

Each step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake. The tables
are computed in synthfer.report, drawn in synthfer.plots and rendered in synthfer.report_html; a step reads
its inputs, calls them and writes its outputs.
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from synthfer.io import atomic_write_csv, atomic_write_json, atomic_write_text
from synthfer.labels import EMOTIONS

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def _table(path: PathLike) -> pd.DataFrame:
    """A report table as written by aggregate_metrics_step: k stays text ("0", "1", "syn")."""
    return pd.read_csv(path, dtype={"k": str})


def aggregate_metrics_step(
    predictions: list[PathLike],
    histories: list[PathLike],
    cross_test: list[str],
    target_effect: float,
    metrics: PathLike,
    summary: PathLike,
    gains: PathLike,
    selection_gains: PathLike,
    control_gains: PathLike,
    gan_run_gains: PathLike,
    table2: PathLike,
    table3: PathLike,
) -> None:
    """Metrics per run and over seeds, the paired gains (against real only, the selection, the controls, per GAN
    run), and Tables 2 and 3, from every run's kept predictions and training history. (Twelve names: one per
    name of its rule, eight of them the tables it writes.)"""
    from synthfer import report

    tables = report.aggregate(report.read_predictions(predictions), target_effect)
    written = {
        metrics: tables.metrics,
        summary: tables.summary,
        gains: tables.gains,
        selection_gains: tables.selection_gains,
        control_gains: tables.control_gains,
        gan_run_gains: tables.gan_run_gains,
        table2: report.table2(tables.metrics, report.read_histories(histories)),
        table3: report.table3(tables.summary, cross_test),
    }
    for path, table in written.items():
        atomic_write_csv(table, path)


def plot_accuracy_vs_ratio_step(summary: PathLike, cross_test: list[str], figure: PathLike) -> None:
    """Accuracy against k per arm and test set, with the tables' intervals."""
    from synthfer.plots import plot_accuracy_vs_ratio

    plot_accuracy_vs_ratio(_table(summary), figure, cross_test)


def plot_per_class_metrics_step(summary: PathLike, table3: PathLike, cross_test: list[str], figure: PathLike) -> None:
    """Per-class precision, recall and F1 of the models Table 3 compares."""
    from synthfer.plots import plot_per_class_metrics

    models = _table(table3)[["model", "arm", "k"]]
    plot_per_class_metrics(_table(summary), models, figure, list(EMOTIONS), cross_test)


def plot_confusion_matrices_step(predictions: list[PathLike], figures: PathLike) -> None:
    """One confusion matrix per test set, arm and k, into the folder `figures`."""
    from synthfer.report import confusion_figures, read_predictions

    confusion_figures(read_predictions(predictions), figures)


def plot_samples_step(unit: list[PathLike], identities: int, figure: PathLike) -> None:
    """A grid of the first `identities` generated identities of a unit (the files of its store) by emotion."""
    from synthfer.data.store import read_one_store
    from synthfer.plots import save_sample_grid

    save_sample_grid(read_one_store(unit), identities, figure)


def write_summary_step(
    study: dict,
    target_effect: float,
    metrics_summary: PathLike,
    gains: PathLike,
    selection_gains: PathLike,
    control_gains: PathLike,
    gan_run_gains: PathLike,
    table2: PathLike,
    table3: PathLike,
    fidelity_parts: list[PathLike],
    quality_parts: list[PathLike],
    selection_parts: list[PathLike],
    minority: list[PathLike],
    summary: PathLike,
    summary_html: PathLike,
    answer: PathLike,
    gains_html: PathLike,
    control_gains_html: PathLike,
    table2_html: PathLike,
    table3_html: PathLike,
    provenance: PathLike,
    fidelity: PathLike,
    quality: PathLike,
    selection: PathLike,
) -> None:
    """summary.md and the pages report.html shows inline (the summary, the answer, the main tables), with
    provenance.json and the per-translator tables (`*_parts`) gathered into one each. `study`: the whole
    config, which summary.md and provenance.json record, so that any change to it rewrites them (and only
    them). (Twenty-four names: one per name of its rule, which writes eleven files.)"""
    from synthfer.provenance import provenance as machine_and_versions
    from synthfer.report import collect_selection_counts, collect_tables
    from synthfer.report_html import answer_rst, markdown_page, ratio_order, write_table_page
    from synthfer.summary import SummaryTables, summary_markdown

    prov = machine_and_versions()
    atomic_write_json({**prov, "config": study}, provenance)
    fidelity_table = collect_tables(fidelity_parts)
    quality_table = collect_tables(quality_parts)
    selection_table = collect_selection_counts(selection_parts)
    for path, table in ((fidelity, fidelity_table), (quality, quality_table), (selection, selection_table)):
        atomic_write_csv(table, path)
    gains_table, control_table = _table(gains), _table(control_gains)
    table_2, table_3 = _table(table2), _table(table3)
    tables = SummaryTables(
        summary=_table(metrics_summary),
        fidelity=fidelity_table,
        gains=gains_table,
        quality=quality_table,
        selection=selection_table,
        table_2=table_2,
        minority=tuple(pd.read_csv(p) for p in minority) if minority else None,
        table_3=table_3,
        selection_gain=_table(selection_gains),
        control_gain=control_table,
        gan_run_gain=_table(gan_run_gains),
    )
    text = summary_markdown(study, prov, tables)
    atomic_write_text(text, summary)
    atomic_write_text(markdown_page(text, "synthfer summary"), summary_html)
    atomic_write_text(answer_rst(study, gains_table, target_effect, control_table), answer)
    write_table_page(
        ratio_order(gains_table),
        "Paired gains over real only",
        gains_html,
        "Gain, 95% interval and p with seeds and test subjects as random units; Holm p and BH q within each family; "
        "mde: minimal detectable effect at 80% power; seeds_for_target: seeds the target gain needs.",
    )
    write_table_page(
        ratio_order(control_table),
        "Generated faces against the controls at the same k",
        control_gains_html,
        "Each generated arm minus each control arm (real-steps: as many gradient steps on real faces; real-augmented: "
        "as many augmented real faces), paired the same way; a family per (arm, control), Holm within it.",
    )
    write_table_page(table_2, "Table 2: training and test accuracy per run", table2_html)
    write_table_page(table_3, "Table 3: cross-database accuracy of the compared models", table3_html)
