"""Metrics from scikit-learn, computed from kept predictions so any of them can be redone without training."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from synthfer.labels import EMOTIONS


def classification_metrics(true: pd.Series | np.ndarray, pred: pd.Series | np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro-F1 and per-class precision/recall/F1 over the 6 emotions."""
    labels = list(EMOTIONS)
    precision, recall, f1, support = precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
    row: dict[str, float] = {
        "n": int(len(true)),
        "accuracy": accuracy_score(true, pred),
        "balanced_accuracy": balanced_accuracy_score(true, pred),
        "macro_f1": f1_score(true, pred, labels=labels, average="macro", zero_division=0),
    }
    for i, e in enumerate(labels):
        row[f"precision_{e}"] = precision[i]
        row[f"recall_{e}"] = recall[i]
        row[f"f1_{e}"] = f1[i]
    return row


def confusion_counts(true: pd.Series | np.ndarray, pred: pd.Series | np.ndarray) -> np.ndarray:
    """Confusion matrix in the canonical class order, rows = true."""
    return confusion_matrix(true, pred, labels=list(EMOTIONS))


def metrics_table(predictions: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One metrics row per group of `keys` (e.g. k, seed, test_set)."""
    rows = []
    for values, group in predictions.groupby(keys, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        rows.append({**dict(zip(keys, values)), **classification_metrics(group["true"], group["pred"])})
    return pd.DataFrame(rows)


def summarize_over_seeds(metrics: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean, standard deviation and a t-based 95% CI half-width over seeds."""
    from scipy import stats

    grouped = metrics.groupby(keys)[columns]
    mean, std, count = grouped.mean(), grouped.std(ddof=1), grouped.count()
    tcrit = pd.DataFrame(stats.t.ppf(0.975, np.maximum(count.to_numpy() - 1, 1)), index=count.index, columns=columns)
    half = (tcrit * std / np.sqrt(count)).where(count > 1)
    out = pd.concat({"mean": mean, "sd": std, "ci95": half, "n_seeds": count}, axis=1)
    out.columns = [f"{metric}_{stat}" for stat, metric in out.columns]
    return out.reset_index()
