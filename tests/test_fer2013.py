"""FER2013 (study 2): both released layouts, faces used as cropped, ambiguity filtering, stratified splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from synthfer.ambiguity import AmbiguityFilterConfig, counts_before_after, out_of_fold_confidence, select_unambiguous
from synthfer.data.loaders import load_records
from synthfer.data.prepare import PrepareConfig, prepare_faces
from synthfer.data.splits import _imbalance, assert_subject_disjoint, split_subjects


def _pattern(code: int, rng: np.random.Generator, side: int = 48) -> np.ndarray:
    """A face-sized image whose bright band position says the class, plus noise."""
    img = rng.integers(0, 60, size=(side, side))
    band = side // 7
    img[code * band : (code + 1) * band, :] += 180
    return np.clip(img, 0, 255).astype(np.uint8)


def write_fer2013_csv(path: Path, per_class: int = 4, seed: int = 0, damaged_rows: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(per_class):
        for code in range(7):
            usage = ("Training", "PublicTest", "PrivateTest")[i % 3]
            rows.append({"emotion": code, "pixels": " ".join(map(str, _pattern(code, rng).ravel())), "Usage": usage})
    for _ in range(damaged_rows):
        rows.append({"emotion": 3, "pixels": "1 2 3", "Usage": "Training"})
    table = pd.DataFrame(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def test_fer2013_csv_codes_usage_and_pixels(tmp_path):
    source = write_fer2013_csv(tmp_path / "fer2013" / "fer2013.csv", per_class=3)
    t = load_records("fer2013", tmp_path, "fer")
    codes = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]
    assert list(t["emotion"]) == [codes[c] for c in source["emotion"]]
    assert t["subject"].is_unique  # no identities: every image its own subject
    first = np.array(source.loc[0, "pixels"].split(), dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(t.loc[0, "pixels"], first) and t["aligned"].all()
    train_only = load_records("fer2013", tmp_path, "fer", {"usage": ["Training"]})
    assert len(train_only) == 7 and train_only["path"].str.endswith(("#0", "#1", "#2", "#3", "#4", "#5", "#6")).all()
    with pytest.raises(ValueError, match="allowed: Training, PublicTest, PrivateTest"):
        load_records("fer2013", tmp_path, "fer", {"usage": ["Validation"]})


def test_fer2013_folder_release(tmp_path):
    rng = np.random.default_rng(1)
    for split, folder, n in [
        ("train", "happy", 2),
        ("train", "disgust", 1),
        ("test", "fear", 1),
        ("test", "contempt", 1),
    ]:
        for i in range(n):
            (tmp_path / split / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(_pattern(0, rng)).save(tmp_path / split / folder / f"im{i}.jpg")
    t = load_records("fer2013", tmp_path, "fer")
    assert sorted(t["emotion"]) == ["disgust", "fear", "happiness", "happiness"]  # contempt dropped
    assert t["subject"].is_unique
    assert sorted(load_records("fer2013", tmp_path, "fer", {"usage": ["PrivateTest"]})["emotion"]) == ["fear"]


def test_fer2013_faces_are_resized_not_detected_and_damaged_rows_rejected(tmp_path):
    source = write_fer2013_csv(tmp_path / "fer2013.csv", per_class=2, damaged_rows=1)
    records = load_records("fer2013", tmp_path / "fer2013.csv", "fer")
    images, faces, rejected = prepare_faces(records, PrepareConfig(image_size=48))
    assert images.shape == (14, 48, 48) and len(rejected) == 1 and "damaged pixel row" in rejected.loc[0, "reason"]
    assert np.array_equal(images[0], np.array(source.loc[0, "pixels"].split(), dtype=np.uint8).reshape(48, 48))
    small, _, _ = prepare_faces(records, PrepareConfig(image_size=32))
    assert small.shape == (14, 32, 32)


def test_ambiguity_filter_removes_mislabelled_faces_first():
    rng = np.random.default_rng(0)
    codes = np.repeat([3, 4], 60)  # happiness, sadness
    images = np.stack([_pattern(c, rng, 32) for c in codes])
    names = {3: "happiness", 4: "sadness"}
    emotions = pd.Series([names[c] for c in codes])
    flipped = np.concatenate([rng.choice(60, 6, replace=False), 60 + rng.choice(60, 6, replace=False)])
    emotions[flipped] = [names[7 - codes[i]] for i in flipped]  # 3 <-> 4: the label says the other class
    cfg = AmbiguityFilterConfig(keep=0.9, folds=3, max_epochs=8, patience=3, batch_size=16, lr=1e-3, image_size=32)
    confidence = out_of_fold_confidence(
        images, emotions, pd.Series([f"s{i}" for i in range(len(codes))]), cfg, torch.device("cpu")
    )
    assert np.isfinite(confidence).all()
    keep = select_unambiguous(emotions, confidence, cfg.keep)
    removed = set(np.flatnonzero(~keep))
    assert len(removed & set(flipped)) >= 9  # the removed faces are (mostly) the mislabelled ones
    counts = counts_before_after(emotions, keep).set_index("emotion")
    assert counts.loc["total", "before"] == 120 and counts.loc["total", "after"] == int(keep.sum())
    assert (
        counts.loc[["happiness", "sadness"], "after"] == np.ceil(0.9 * counts.loc[["happiness", "sadness"], "before"])
    ).all()


def test_selection_keeps_the_share_per_class_even_for_a_minority():
    emotions = pd.Series(["anger"] * 10 + ["disgust"] * 2)
    confidence = np.linspace(0, 1, 12)
    keep = select_unambiguous(emotions, confidence, 0.5)
    assert keep[:10].sum() == 5 and keep[5:10].all() and keep[10:].sum() == 1 and keep[11]


def test_stratified_split_balances_emotions_and_stays_subject_disjoint():
    rng = np.random.default_rng(3)
    # subjects with skewed emotion mixes: some mostly happy, some mostly sad
    subjects, emotions = [], []
    for s in range(40):
        main = "happiness" if s % 4 else "sadness"
        for _ in range(10):
            subjects.append(f"s{s}")
            emotions.append(main if rng.random() < 0.8 else "anger")
    table = pd.DataFrame({"subject": subjects, "emotion": emotions})
    plain = split_subjects(table["subject"], 4, 8, seed=0)
    balanced = split_subjects(table["subject"], 4, 8, seed=0, emotions=table["emotion"])
    assert _imbalance(balanced.to_numpy(), table["emotion"].to_numpy()) < _imbalance(
        plain.to_numpy(), table["emotion"].to_numpy()
    )
    assert_subject_disjoint(table.assign(split=balanced))
    assert balanced.groupby(table["subject"]).first().value_counts().to_dict() == {"train": 28, "test": 8, "val": 4}
    assert balanced.equals(split_subjects(table["subject"], 4, 8, seed=0, emotions=table["emotion"]))


def test_malformed_fer2013_rows_are_rejected_with_their_row_not_fatal(tmp_path):
    write_fer2013_csv(tmp_path / "fer2013.csv", per_class=1)
    table = pd.read_csv(tmp_path / "fer2013.csv", dtype=str)
    bad = pd.DataFrame(
        [
            {"emotion": "3", "pixels": "12 x 7 " * 10, "Usage": "Training"},  # non-numeric pixels, a kept class
            {"emotion": "", "pixels": table.loc[0, "pixels"], "Usage": "Training"},  # no label at all
            {"emotion": "9", "pixels": table.loc[0, "pixels"], "Usage": "Training"},  # a code that is no class
        ]
    )
    pd.concat([table, bad], ignore_index=True).to_csv(tmp_path / "fer2013.csv", index=False)
    records = load_records("fer2013", tmp_path / "fer2013.csv", "fer")
    images, faces, rejected = prepare_faces(records, PrepareConfig(image_size=48, max_rejected_fraction=0.5))
    assert len(faces) == 7 and images.shape == (7, 48, 48)
    by_row = dict(zip(rejected["path"].str.rsplit("#", n=1).str[1].astype(int), rejected["reason"]))
    assert by_row == {
        7: "unreadable: OSError: damaged pixel row: expected a square of whole numbers 0-255",
        8: "malformed row: emotion code '' is not one of 0, 1, 2, 3, 4, 5, 6",
        9: "malformed row: emotion code '9' is not one of 0, 1, 2, 3, 4, 5, 6",
    }


def test_a_fer2013_csv_without_its_columns_names_the_file_and_the_columns_found(tmp_path):
    pd.DataFrame({"emotion": [0], "image": ["1 2 3 4"]}).to_csv(tmp_path / "fer2013.csv", index=False)
    with pytest.raises(
        ValueError,
        match=r"dataset 'fer': .*fer2013\.csv has no pixels column \(it has emotion, image\); the FER2013 csv needs emotion, pixels",
    ):
        load_records("fer2013", tmp_path, "fer")
    pd.DataFrame({"emotion": [0], "pixels": [" ".join(["7"] * 2304)]}).to_csv(
        tmp_path / "fer2013.csv", index=False
    )  # Kaggle's train.csv: no Usage
    assert len(load_records("fer2013", tmp_path, "fer")) == 1
    with pytest.raises(ValueError, match="options.usage is set, but .* has no Usage column"):
        load_records("fer2013", tmp_path, "fer", {"usage": ["Training"]})
