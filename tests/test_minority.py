"""Study 2's protocol: translated minority faces, repeated stratified CV, the corrected paired t-test."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from synthfer.data.store import FaceSet
from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.minority import (
    MinorityConfig,
    compare_with_baseline,
    corrected_paired_ttest,
    cross_validate,
    plan_folds,
    translate_neutral,
)
from synthfer.steps.minority import summarize_minority
from synthfer.summary import minority_view, section
from synthfer.train.classifier import ClassifierConfig


class Inverter:
    name = "inverter"

    def to_emotion(self, faces: torch.Tensor, emotion: str) -> torch.Tensor:
        return 255 - faces


def _people(subjects: int = 12) -> FaceSet:
    """Every subject shows neutral and the 6 emotions once; brightness tells the emotion."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        [
            {"subject": f"p{i}", "emotion": e, "source": "real", "split": "train"}
            for i in range(subjects)
            for e in DOMAINS
        ]
    )
    brightness = table["emotion"].map(lambda e: 30.0 * DOMAINS.index(e)).to_numpy()
    images = np.clip(rng.normal(brightness[:, None, None], 10, (len(table), 24, 24)), 0, 255).astype(np.uint8)
    return FaceSet(images, table)


def test_folds_are_by_subject_and_each_folds_added_faces_come_from_its_own_training_subjects():
    faces = _people()
    cfg = MinorityConfig(target="disgust", folds=3, repeats=2, val_share=0.25)
    plans = plan_folds(faces, 3, cfg)
    emotional = faces.table[faces.table["emotion"] != "neutral"].reset_index(drop=True)
    assert [(p.repeat, p.fold) for p in plans] == [(r, f) for r in range(2) for f in range(3)]
    for plan in plans:
        fit, val, test = (set(emotional.loc[part, "subject"]) for part in (plan.fit, plan.val, plan.test))
        assert not (fit & val or fit & test or val & test) and len(plan.fit) + len(plan.val) + len(plan.test) == len(
            emotional
        )
        added = faces.table.iloc[plan.added]
        assert len(added) == 3 and set(added["emotion"]) == {"neutral"} and set(added["subject"]) <= fit
    assert [set(p.test) for p in plans[:3]] != [set(p.test) for p in plans[3:]]  # each repeat shuffles the folds anew
    assert all(
        np.array_equal(a.added, b.added[:2]) for a, b in zip(plan_folds(faces, 2, cfg), plans)
    )  # n grows, faces stay
    with pytest.raises(ValueError, match="needs 9 neutral faces of a fold's training subjects"):
        plan_folds(faces, 9, cfg)  # 12 subjects, 3 folds, a quarter held out for validation: about 6 fit subjects


def test_neutral_faces_are_translated_once_into_the_target():
    faces = _people(4)
    neutral = np.flatnonzero((faces.table["emotion"] == "neutral").to_numpy())
    translated = translate_neutral(faces, np.concatenate([neutral, neutral[:2]]), Inverter(), "disgust", batch=3)
    assert sorted(translated) == neutral.tolist() and all(
        np.array_equal(translated[j], 255 - faces.images[j]) for j in neutral
    )


def test_repeated_stratified_cv_trains_on_every_fold_and_adds_the_faces():
    faces = _people()
    cfg = MinorityConfig(target="disgust", folds=2, repeats=2, val_share=0.25)
    classifier = ClassifierConfig(image_size=24, max_epochs=2, patience=1, lr=1e-3)
    with_added = cross_validate(faces, Inverter(), 4, cfg, classifier, torch.device("cpu"))
    without = cross_validate(faces, None, 4, cfg, classifier, torch.device("cpu"))
    assert list(zip(with_added["repeat"], with_added["fold"])) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert (with_added["n_test"] == without["n_test"]).all() and with_added[
        "n_test"
    ].sum() == 2 * 12 * 6  # every face tested once per repeat
    assert (with_added["n_train"] == without["n_train"] + 4).all() and (without["n_added"] == 0).all()
    assert with_added[[f"auc_{e}" for e in EMOTIONS]].notna().all().all()
    assert with_added["best_epoch"].between(1, 2).all()
    assert (with_added["at_chance"] == (with_added["best_val_loss"] >= 0.97 * np.log(6))).all()
    assert (with_added["still_improving"] == (with_added["best_epoch"] == with_added["epochs"])).all() and with_added[
        "epochs"
    ].between(1, 2).all()
    oversampled = cross_validate(
        faces, None, 4, cfg, classifier, torch.device("cpu"), oversample=True
    )  # the control: 4 real disgust faces repeated
    assert (oversampled["n_train"] == without["n_train"] + 4).all() and (oversampled["n_added"] == 4).all()
    assert (oversampled["n_test"] == without["n_test"]).all()  # the same folds


def test_oversampling_repeats_the_folds_own_target_faces_evenly():
    from synthfer.minority import oversampled_positions

    y_fit = np.array([0, 1, 1, 2, 1, 3, 1])
    positions = oversampled_positions(y_fit, target=1, n=10, seed=0)
    assert len(positions) == 10 and set(y_fit[positions]) == {1}
    counts = np.bincount(positions, minlength=len(y_fit))[y_fit == 1]
    assert counts.min() == 2 and counts.max() == 3
    with pytest.raises(ValueError, match="needs real disgust faces"):
        oversampled_positions(np.array([0, 0]), target=EMOTIONS.index("disgust"), n=3, seed=0)


def test_translators_are_compared_with_the_oversampling_control_at_the_same_n(tmp_path):
    paths = []
    for translator, n, auc in (("none", 0, 0.80), ("cyclegan", 20, 0.85), ("real-oversampled", 20, 0.84)):
        folds = pd.DataFrame(
            {
                "repeat": 0,
                "fold": [0, 1, 2, 3],
                "translator": translator,
                "n": n,
                "n_train": 90,
                "n_test": 10,
                "accuracy": 0.5,
                "macro_auc_ovr": auc
                + {"none": 0, "cyclegan": 1, "real-oversampled": -1}[translator] * np.array([0.0, 0.01, 0.03, 0.02]),
                "macro_f1": 0.4,
                "precision_disgust": 0.5,
                "auc_disgust": 0.8,
                "at_chance": False,
                "still_improving": False,
            }
        )
        paths.append(tmp_path / f"{translator}.csv")
        folds.to_csv(paths[-1], index=False)
    summarize_minority(paths, "disgust", tmp_path / "minority.csv", tmp_path / "gains.csv")
    gains = pd.read_csv(tmp_path / "gains.csv")
    auc = gains[gains["metric"] == "macro_auc_ovr"]
    versus_none = auc[auc["reference"] == "none"].set_index("translator")
    assert set(versus_none.index) == {"cyclegan", "real-oversampled"} and (versus_none["n_tests"] == 2).all()
    control = auc[auc["reference"] == "real-oversampled"]
    assert len(control) == 1 and control["translator"].item() == "cyclegan" and control["n_tests"].item() == 1
    assert control["diff"].item() == pytest.approx(0.85 + 0.015 - (0.84 - 0.015))
    config = {"minority": {"dataset": "oulu", "target": "disgust", "folds": 4, "repeats": 1}}
    text = section("minority_section", minority_view(config, pd.read_csv(tmp_path / "minority.csv"), gains))
    assert (
        "Against the control real-oversampled" in text
        and "- cyclegan vs real-oversampled, +20 disgust: macro_auc_ovr 0.8250 -> 0.8650" in text
    )


def test_folds_ended_by_max_epochs_while_improving_are_counted_and_named(tmp_path):
    paths = []
    for translator, n, improving in (("none", 0, [False, False]), ("stargan", 20, [True, False])):
        folds = pd.DataFrame(
            {
                "repeat": 0,
                "fold": [0, 1],
                "translator": translator,
                "n": n,
                "n_train": 90,
                "n_test": 10,
                "accuracy": [0.5, 0.6],
                "macro_auc_ovr": [0.8, 0.9],
                "macro_f1": [0.4, 0.5],
                "precision_disgust": 0.5,
                "auc_disgust": 0.8,
                "at_chance": False,
                "still_improving": improving,
            }
        )
        paths.append(tmp_path / f"{translator}.csv")
        folds.to_csv(paths[-1], index=False)
    summarize_minority(paths, "disgust", tmp_path / "minority.csv", tmp_path / "gains.csv")
    summary = pd.read_csv(tmp_path / "minority.csv").set_index("translator")
    assert summary.loc["none", "folds_still_improving"] == 0 and summary.loc["stargan", "folds_still_improving"] == 1
    config = {"minority": {"dataset": "oulu", "target": "disgust", "folds": 2, "repeats": 1}}
    text = section(
        "minority_section", minority_view(config, summary.reset_index(), pd.read_csv(tmp_path / "gains.csv"))
    )
    named = text.split("still improving when")[1].split("\n")[0]
    assert "stargan n=20 (1 folds)" in named and "none" not in named


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
            rows.append(
                {
                    "translator": "none" if n == 0 else "cyclegan",
                    "n": n,
                    "repeat": 0,
                    "fold": fold,
                    "n_train": 90,
                    "n_test": 10,
                    "macro_auc_ovr": 0.8 + 0.01 * fold + shift,
                }
            )
    gains = compare_with_baseline(pd.DataFrame(rows), ["macro_auc_ovr"])
    assert (
        len(gains) == 1
        and gains.loc[0, "diff"] == pytest.approx(0.05)
        and gains.loc[0, "baseline"] == pytest.approx(0.815)
    )
