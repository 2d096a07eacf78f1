"""Selection of generated faces by the real-only classifiers' confidence in the intended emotion."""

import numpy as np
import pandas as pd
import pytest

from synthfer.data.store import FaceSet
from synthfer.labels import EMOTIONS
from synthfer.selection import SelectionConfig, intended_confidence, select_confident


def _faces() -> FaceSet:
    emotions = ["neutral"] * 2 + ["anger"] * 4 + ["happiness"] * 4
    table = pd.DataFrame({"subject": [f"g{i % 2}" for i in range(10)], "emotion": emotions, "split": "train", "unit": 0})
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
    assert counts.loc["anger", "before"] == 4 and counts.loc["anger", "after"] == 3 and counts.loc["happiness", "after"] == 2
    assert counts.loc["fear", "before"] == 0 and counts.loc["fear", "after"] == 0
    top, _ = select_confident(faces, confidence, SelectionConfig(min_confidence=0.0, top_share=0.5))
    assert list(top.images[:, 0, 0]) == [0, 1, 2, 4, 7, 9]  # the two most confident of each emotion
    with pytest.raises(ValueError, match="top_share"):
        SelectionConfig(top_share=0)
