"""Metrics against small cases checked by hand."""

import numpy as np
import pandas as pd
import pytest

from synthfer.labels import EMOTIONS
from synthfer.metrics import classification_metrics, confusion_counts, metrics_table, summarize_over_seeds


def test_metrics_on_a_hand_checked_case():
    true = ["anger", "anger", "fear", "fear", "happiness", "happiness"]
    pred = ["anger", "fear", "fear", "fear", "happiness", "anger"]
    m = classification_metrics(true, pred)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # anger: P = 1/2, R = 1/2; fear: P = 2/3, R = 1; happiness: P = 1, R = 1/2
    assert m["precision_anger"] == pytest.approx(0.5) and m["recall_anger"] == pytest.approx(0.5)
    assert m["precision_fear"] == pytest.approx(2 / 3) and m["recall_fear"] == pytest.approx(1.0)
    assert m["f1_happiness"] == pytest.approx(2 * 1 * 0.5 / 1.5)
    # macro-F1 over all 6 classes: absent classes count as 0
    f1s = [0.5, 0.0, 0.8, 2 / 3, 0.0, 0.0]
    assert m["macro_f1"] == pytest.approx(np.mean(f1s))
    assert m["balanced_accuracy"] == pytest.approx(np.mean([0.5, 1.0, 0.5]))


def test_confusion_rows_are_true_classes_in_canonical_order():
    cm = confusion_counts(["surprise", "anger", "anger"], ["anger", "anger", "disgust"])
    assert cm.shape == (6, 6)
    a, d, s = EMOTIONS.index("anger"), EMOTIONS.index("disgust"), EMOTIONS.index("surprise")
    assert cm[a, a] == 1 and cm[a, d] == 1 and cm[s, a] == 1 and cm.sum() == 3


def test_metrics_table_groups():
    preds = pd.DataFrame({"k": ["0", "0", "1"], "seed": [0, 0, 0], "true": ["anger", "fear", "anger"], "pred": ["anger", "anger", "anger"]})
    table = metrics_table(preds, ["k", "seed"])
    assert list(table["accuracy"]) == [0.5, 1.0]
    assert list(table["n"]) == [2, 1]


def test_summary_over_seeds_uses_a_t_interval():
    from scipy import stats

    m = pd.DataFrame({"k": ["0"] * 3 + ["1"], "accuracy": [0.5, 0.6, 0.7, 0.9]})
    s = summarize_over_seeds(m, ["k"], ["accuracy"]).set_index("k")
    assert s.loc["0", "accuracy_mean"] == pytest.approx(0.6)
    assert s.loc["0", "accuracy_sd"] == pytest.approx(0.1)
    assert s.loc["0", "accuracy_ci95"] == pytest.approx(stats.t.ppf(0.975, 2) * 0.1 / np.sqrt(3))
    assert np.isnan(s.loc["1", "accuracy_ci95"])  # one seed: no interval, not a fake zero
    assert s.loc["1", "accuracy_n_seeds"] == 1
