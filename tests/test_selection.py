"""Selection of generated faces by the real-only classifiers' confidence in the intended emotion."""

import numpy as np
import pandas as pd
import pytest

from synthfer.data.store import FaceSet
from synthfer.labels import EMOTIONS
from synthfer.selection import SelectionConfig, intended_confidence, select_confident


def _faces() -> FaceSet:
    emotions = ["neutral"] * 2 + ["anger"] * 4 + ["happiness"] * 4
    table = pd.DataFrame(
        {"subject": [f"g{i % 2}" for i in range(10)], "emotion": emotions, "split": "train", "unit": 0}
    )
    return FaceSet(np.arange(10, dtype=np.uint8).repeat(4).reshape(10, 2, 2), table)


def test_confidence_is_the_mean_probability_of_the_intended_emotion():
    faces = _faces()
    a, b = np.zeros((10, 6)), np.zeros((10, 6))
    a[:, EMOTIONS.index("anger")], b[:, EMOTIONS.index("anger")] = 0.8, 0.4
    a[:, EMOTIONS.index("happiness")] = 0.2
    conf = intended_confidence(faces, [a, b])
    assert np.isnan(conf[:2]).all()  # neutral: not a class
    assert conf[2:6] == pytest.approx([0.6] * 4) and conf[6:] == pytest.approx([0.1] * 4)


def test_selection_keeps_confirmed_faces_neutral_sources_and_counts_them():
    faces = _faces()
    confidence = np.array([np.nan, np.nan, 0.9, 0.2, 0.7, 0.6, 0.1, 0.95, 0.3, 0.5])
    kept, counts = select_confident(faces, confidence, SelectionConfig(min_confidence=0.5))
    assert list(kept.images[:, 0, 0]) == [0, 1, 2, 4, 5, 7, 9]
    assert kept.table["selection_confidence"].iloc[2:].tolist() == [0.9, 0.7, 0.6, 0.95, 0.5]
    counts = counts.set_index("emotion")
    assert (
        counts.loc["anger", "before"] == 4
        and counts.loc["anger", "after"] == 3
        and counts.loc["happiness", "after"] == 2
    )
    assert counts.loc["fear", "before"] == 0 and counts.loc["fear", "after"] == 0
    top, _ = select_confident(faces, confidence, SelectionConfig(min_confidence=0.0, top_share=0.5))
    assert list(top.images[:, 0, 0]) == [0, 1, 2, 4, 7, 9]  # the two most confident of each emotion
    with pytest.raises(ValueError, match="top_share"):
        SelectionConfig(top_share=0)


def test_balanced_selection_restores_the_unselected_class_counts_from_the_selected_faces():
    from synthfer.selection import balance_selected

    rows = [
        {"subject": f"g{i}", "emotion": e, "split": split, "unit": 0}
        for split, n in (("train", 6), ("val", 2))
        for i in range(n)
        for e in ["neutral", *EMOTIONS]
    ]
    faces = FaceSet(np.zeros((len(rows), 2, 2), np.uint8), pd.DataFrame(rows))
    t = faces.table
    # selection kept: every neutral, one in three faces of most emotions, fear only twice and only in train
    keep = (
        (t["emotion"] == "neutral")
        | ((t["emotion"] != "fear") & (t.index % 3 == 0))
        | ((t["emotion"] == "fear") & (t["split"] == "train") & (t["subject"].isin(["g0", "g1"])))
    )
    kept = faces.select(keep.to_numpy())
    kept.table["marker"] = np.arange(len(kept.table))
    balanced, counts = balance_selected(kept, t, seed=0)
    for r in counts.itertuples():
        assert r.balanced == (
            r.unselected if r.selected else 0
        )  # an emotion with nothing kept in a split stays empty, and is counted
    fear_val = counts[(counts["emotion"] == "fear") & (counts["split"] == "val")].iloc[0]
    assert fear_val.selected == 0 and fear_val.balanced == 0 and fear_val.unselected == 2
    fear_train = counts[(counts["emotion"] == "fear") & (counts["split"] == "train")].iloc[0]
    assert fear_train.balanced == 6 and fear_train.distinct == 2  # two kept fear faces, three times each
    assert set(balanced.table["marker"]) <= set(kept.table["marker"])  # only kept faces, repeated
    assert (balanced.table["emotion"] == "neutral").sum() == (kept.table["emotion"] == "neutral").sum()
    again, _ = balance_selected(kept, t, seed=0)
    assert again.table["marker"].tolist() == balanced.table["marker"].tolist()
