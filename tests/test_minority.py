"""Study 2's protocol: translated minority faces, repeated stratified CV, the corrected paired t-test."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from synthfer.data.store import FaceSet
from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.minority import MinorityConfig, compare_with_baseline, corrected_paired_ttest, cross_validate, translated_minority
from synthfer.train.classifier import ClassifierConfig


class Inverter:
    name = "inverter"

    def to_emotion(self, faces: torch.Tensor, emotion: str) -> torch.Tensor:
        return 255 - faces


def _faces(per_class: int = 8) -> FaceSet:
    rng = np.random.default_rng(0)
    emotions = [e for e in DOMAINS for _ in range(per_class)]
    brightness = np.array([30 * DOMAINS.index(e) for e in emotions], dtype=float)
    images = np.clip(rng.normal(brightness[:, None, None], 10, (len(emotions), 24, 24)), 0, 255).astype(np.uint8)
    table = pd.DataFrame({"subject": [f"s{i}" for i in range(len(emotions))], "emotion": emotions, "source": "real", "split": "train"})
    return FaceSet(images, table)


def test_translated_minority_faces_come_from_neutral_ones():
    faces = _faces()
    added = translated_minority(faces, Inverter(), "disgust", 5, seed=0)
    assert len(added.images) == 5 and set(added.table["emotion"]) == {"disgust"} and set(added.table["source"]) == {"generated"}
    neutral = faces.images[(faces.table["emotion"] == "neutral").to_numpy()]
    assert all(any(np.array_equal(255 - a, n) for n in neutral) for a in added.images)
    assert np.array_equal(translated_minority(faces, Inverter(), "disgust", 3, seed=0).images, added.images[:3])  # a prefix: n grows, faces stay
    assert translated_minority(faces, None, "disgust", 5, seed=0) is None
    with pytest.raises(ValueError, match="needs 9 neutral faces; the set has 8"):
        translated_minority(faces, Inverter(), "disgust", 9, seed=0)


def test_repeated_stratified_cv_trains_on_every_fold_and_adds_the_faces():
    faces = _faces()
    added = translated_minority(faces, Inverter(), "disgust", 4, seed=0)
    cfg = MinorityConfig(target="disgust", folds=2, repeats=2, val_share=0.25)
    classifier = ClassifierConfig(image_size=24, max_epochs=2, patience=1, lr=1e-3)
    with_added = cross_validate(faces, added, cfg, classifier, torch.device("cpu"))
    without = cross_validate(faces, None, cfg, classifier, torch.device("cpu"))
    assert list(zip(with_added["repeat"], with_added["fold"])) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert (with_added["n_test"] == 24).all() and (with_added["n_train"] == without["n_train"] + 4).all()  # 48 emotional faces, halves
    assert with_added[[f"auc_{e}" for e in EMOTIONS]].notna().all().all()


def test_corrected_paired_ttest_matches_the_formula():
    diffs = np.array([0.01, 0.03, 0.02, 0.04, 0.00])
    out = corrected_paired_ttest(diffs, n_train=90, n_test=10)
    se = np.sqrt((1 / 5 + 10 / 90) * diffs.var(ddof=1))
    assert out["diff"] == pytest.approx(0.02)
    assert out["p_value"] == pytest.approx(2 * stats.t.sf(0.02 / se, 4))
    assert out["ci_high"] - out["diff"] == pytest.approx(stats.t.ppf(0.975, 4) * se)
    assert corrected_paired_ttest(np.zeros(4), 90, 10)["p_value"] == 1.0  # no difference at all


def test_each_setting_is_compared_with_no_added_faces_on_the_same_folds():
    rows = []
    for n, shift in ((0, 0.0), (100, 0.05)):
        for fold in range(4):
            rows.append({"translator": "none" if n == 0 else "cyclegan", "n": n, "repeat": 0, "fold": fold, "n_train": 90, "n_test": 10,
                         "macro_auc_ovr": 0.8 + 0.01 * fold + shift})
    gains = compare_with_baseline(pd.DataFrame(rows), ["macro_auc_ovr"])
    assert len(gains) == 1 and gains.loc[0, "diff"] == pytest.approx(0.05) and gains.loc[0, "baseline"] == pytest.approx(0.815)
