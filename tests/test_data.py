"""Loaders, alignment, preparation and subject-disjoint splits."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

from synthfer.data.align import align_face
from synthfer.data.loaders import DatasetMissingError, load_records
from synthfer.data.prepare import PrepareConfig, TooManyRejectedError, prepare_faces
from synthfer.data.splits import assert_subject_disjoint, split_subjects
from synthfer.labels import DOMAINS


def test_demo_loader_reads_what_the_renderer_wrote(small_db):
    db, root = small_db
    records = load_records("demo", root, "mydb")
    assert len(records) == db.subjects * len(DOMAINS)
    assert records["subject"].str.startswith("mydb/").all()
    assert records["source"].eq("mydb").all()
    assert all(Image.open(p).size == (db.image_size, db.image_size) for p in records["path"][:3])


def test_missing_dataset_names_it_and_where(tmp_path):
    with pytest.raises(DatasetMissingError, match=r"'mmi'.*datasets\.mmi\.path"):
        load_records("demo", tmp_path / "nowhere", "mmi")


def test_unknown_loader_lists_the_allowed_ones(tmp_path):
    with pytest.raises(ValueError, match="allowed: demo"):
        load_records("kdef_typo", tmp_path, "x")


def test_alignment_puts_the_eyes_at_their_targets():
    img = Image.new("L", (400, 400), 255)
    d = ImageDraw.Draw(img)
    left, right = np.array([160.0, 210.0]), np.array([230.0, 190.0])  # tilted face
    for x, y in (left, right):
        d.ellipse((x - 4, y - 4, x + 4, y + 4), fill=0)
    out = align_face(img.convert("RGB"), left, right, size=64, eye_distance=0.4, eye_height=0.4)
    assert out.shape == (64, 64) and out.dtype == np.uint8
    ys, xs = np.nonzero(out < 128)
    left_blob = xs < 32
    # eyes land level, 0.4*64 apart, centred, at 0.4*64 from the top
    assert abs(xs[left_blob].mean() - (32 - 12.8)) < 1.5
    assert abs(xs[~left_blob].mean() - (32 + 12.8)) < 1.5
    assert abs(ys[left_blob].mean() - 25.6) < 1.5 and abs(ys[~left_blob].mean() - 25.6) < 1.5


def test_prepare_keeps_good_faces_and_lists_bad_ones(small_db, tmp_path):
    _, root = small_db
    records = load_records("demo", root, "db")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a png")
    bad = records.iloc[:2].copy()
    bad.loc[bad.index[0], "path"] = str(broken)
    bad.loc[bad.index[1], "left_eye_x"] = np.nan
    both = pd.concat([records, bad], ignore_index=True)
    images, faces, rejected = prepare_faces(both, PrepareConfig(image_size=32), threads=1)
    assert images.shape == (len(records), 32, 32) and images.dtype == np.uint8
    assert len(faces) == len(records)
    assert set(rejected["path"]) == {str(broken), bad.iloc[1]["path"]}
    reasons = " ".join(rejected["reason"])
    assert "unreadable" in reasons and "no eye landmarks" in reasons


def test_too_many_rejects_fail_loudly(small_db):
    _, root = small_db
    records = load_records("demo", root, "db")
    records["left_eye_x"] = np.nan
    with pytest.raises(TooManyRejectedError, match="max_rejected_fraction"):
        prepare_faces(records, PrepareConfig(image_size=32, max_rejected_fraction=0.1))


def _subjects(n: int, per: int = 6) -> pd.Series:
    return pd.Series([f"s{i:03d}" for i in range(n) for _ in range(per)])


@pytest.mark.parametrize("val,test", [(4, 8), (0.1, 0.2), (1, 0.5)])
def test_splits_are_subject_disjoint(val, test):
    subjects = _subjects(48)
    split = split_subjects(subjects, val, test, seed=3)
    table = pd.DataFrame({"subject": subjects, "split": split})
    assert_subject_disjoint(table)
    per_split = table.groupby("split")["subject"].nunique()
    assert set(per_split.index) == {"train", "val", "test"}
    if isinstance(test, int):
        assert per_split["test"] == test and per_split["val"] == val
    assert per_split.sum() == 48


def test_splits_are_deterministic_per_seed():
    subjects = _subjects(30)
    a = split_subjects(subjects, 3, 5, seed=1)
    assert a.equals(split_subjects(subjects, 3, 5, seed=1))
    assert not a.equals(split_subjects(subjects, 3, 5, seed=2))


def test_leak_detector_catches_a_leak():
    table = pd.DataFrame({"subject": ["a", "a", "b"], "split": ["train", "test", "train"]})
    with pytest.raises(AssertionError, match="several splits"):
        assert_subject_disjoint(table)
