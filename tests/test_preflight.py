"""The design checked against the prepared face tables before any GAN: every problem named with its key."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest
import torch

from synthfer.labels import DOMAINS
from synthfer.preflight import DesignError, MinorityPlan, check_design, check_torchscript

ROLES = {"real_train": ["a", "b"], "gan_train": ["wild"], "cross_test": ["x"]}
SPLIT = {"val": 2, "test": 3}


def faces(name: str, subjects: int, emotions: tuple[str, ...] = DOMAINS) -> pd.DataFrame:
    return pd.DataFrame([{"subject": f"{name}/{s}", "emotion": e} for s in range(subjects) for e in emotions])


def tables(**changed: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"a": faces("a", 8), "b": faces("b", 6), "wild": faces("wild", 30), "x": faces("x", 4), **changed}


def test_a_design_that_fits_lists_what_was_checked():
    checked = check_design(tables(), ROLES, SPLIT, generating=True)
    assert checked[0] == "split: 14 real training subjects -> train 9, val 2, test 3"


def test_a_split_larger_than_the_subjects_is_named_with_the_counts():
    with pytest.raises(
        DesignError,
        match=r"split\.val = 2 and split\.test = 13 take 2 \+ 13 = 15 subjects, but a\+b have 14 after preparation",
    ):
        check_design(tables(), ROLES, {"val": 2, "test": 13}, generating=True)
    with pytest.raises(DesignError, match=r"split\.val = 0\.5 and split\.test = 0\.45 take 7 \+ 7 = 14 subjects"):
        check_design(tables(), ROLES, {"val": 0.5, "test": 0.45}, generating=True)  # fractions round as the split does


def test_a_training_set_with_one_emotion_is_refused_unless_allowed():
    only_happy = tables(a=faces("a", 8, ("happiness",)), b=faces("b", 6, ("happiness",)))
    with pytest.raises(
        DesignError,
        match=r"roles\.real_train \(a\+b\) has no anger, disgust, fear, sadness, surprise faces \(it holds happiness 14\).*"
        r"experiment\.allow_missing_emotions: true",
    ):
        check_design(only_happy, ROLES, SPLIT, generating=True)
    check_design(only_happy, ROLES, SPLIT, generating=True, allow_missing_emotions=True)


def test_a_test_set_missing_an_emotion_is_named():
    with pytest.raises(DesignError, match=r"roles\.cross_test \(x\) has no fear faces"):
        check_design(
            tables(x=faces("x", 4, ("neutral", "anger", "disgust", "happiness", "sadness", "surprise"))),
            ROLES,
            SPLIT,
            generating=True,
        )


def test_the_gans_need_every_domain_even_when_missing_emotions_are_allowed():
    no_neutral = tables(wild=faces("wild", 30, DOMAINS[1:]))
    with pytest.raises(DesignError, match=r"roles\.gan_train \(wild\) has no neutral faces") as error:
        check_design(no_neutral, ROLES, SPLIT, generating=True, allow_missing_emotions=True)
    assert "allow_missing_emotions" not in str(error.value)
    check_design(no_neutral, ROLES, SPLIT, generating=False)  # a real-only study trains no GAN


def test_study_2_is_planned_fold_by_fold_before_its_translators_train():
    plan = MinorityPlan(dataset="a", n_added=40, target="disgust", folds=2, repeats=1, val_share=0.3, seed=0)
    with pytest.raises(
        DesignError,
        match=r"minority\.n_added = 40 \(minority\.dataset a\): adding 40 translated disgust faces needs 40 neutral faces.*lower minority\.n_added",
    ):
        check_design(tables(), ROLES, SPLIT, generating=True, minority=plan)
    check_design(tables(), ROLES, SPLIT, generating=True, minority=MinorityPlan(**{**plan.__dict__, "n_added": 2}))
    with pytest.raises(DesignError, match=r"minority\.folds = 10, but minority\.dataset a has 8 subjects.*at most 8"):
        check_design(
            tables(),
            ROLES,
            SPLIT,
            generating=True,
            minority=MinorityPlan(**{**plan.__dict__, "n_added": 2, "folds": 10}),
        )


def test_every_problem_is_reported_at_once():
    with pytest.raises(DesignError) as error:
        check_design(tables(a=faces("a", 8, ("happiness",))), ROLES, {"val": 2, "test": 13}, generating=True)
    assert "split.val = 2" in str(error.value) and "roles.real_train (a+b) has no" not in str(
        error.value
    )  # b has every emotion
    with pytest.raises(DesignError) as error:
        check_design(
            tables(a=faces("a", 8, ("happiness",)), b=faces("b", 6, ("happiness",))),
            ROLES,
            {"val": 2, "test": 13},
            generating=True,
        )
    assert "split.val = 2" in str(error.value) and "roles.real_train (a+b) has no anger" in str(error.value)


class _Generator(torch.nn.Module):
    def __init__(self, channels: int = 1, flat: bool = False) -> None:
        super().__init__()
        self.fc, self.channels, self.flat = torch.nn.Linear(8, channels * 16), channels, flat

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = torch.tanh(self.fc(z))
        return out if self.flat else out.view(z.shape[0], self.channels, 4, 4)


def test_the_torchscript_generator_must_load_and_make_images(tmp_path):
    good, flat, garbage = tmp_path / "good.pt", tmp_path / "flat.pt", tmp_path / "garbage.pt"
    torch.jit.save(torch.jit.script(_Generator(3)), str(good))
    torch.jit.save(torch.jit.script(_Generator(flat=True)), str(flat))
    with zipfile.ZipFile(garbage, "w") as archive:  # a zip, so it passes the start-up check, but no TorchScript inside
        archive.writestr("model/data.txt", "weights?")
    assert check_torchscript(str(good), 8) == []
    assert "maps noise (2, 8) to (2, 16); expected images (2, 1 or 3, H, W)" in check_torchscript(str(flat), 8)[0]
    assert "fails on noise of shape (2, 5) (generate.z_dim = 5)" in check_torchscript(str(good), 5)[0]
    assert "is not a TorchScript file torch.jit.load can read" in check_torchscript(str(garbage), 8)[0]
    with pytest.raises(DesignError, match=r"generate\.torchscript = .*garbage\.pt is not a TorchScript file"):
        check_design(tables(), ROLES, SPLIT, generating=True, torchscript=(str(garbage), 8))
