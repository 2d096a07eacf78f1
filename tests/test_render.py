import numpy as np
import pandas as pd
import pytest

from synthfer.data.demo import DemoDatabase, write_demo_database
from synthfer.data.render import PROTOTYPES, Nuisance, expression_units, render_face, sample_identity
from synthfer.labels import DOMAINS


def _render(subject_seed: int, emotion: str, intensity: float = 1.0, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    ident = sample_identity(np.random.default_rng(subject_seed))
    units = expression_units(emotion, intensity, np.random.default_rng(1))
    img, eyes = render_face(ident, units, Nuisance(), size)
    return np.asarray(img.convert("L"), dtype=np.float32), eyes


def test_same_seed_same_pixels(tmp_path):
    db = DemoDatabase(seed=3, subjects=2, images_per_emotion=1, imaging="wild", image_size=64)
    a = write_demo_database(db, tmp_path / "a")
    b = write_demo_database(db, tmp_path / "b", threads=2)
    pd.testing.assert_frame_equal(a, b)
    for f in a["file"]:
        assert np.array_equal(np.asarray(_open(tmp_path / "a" / f)), np.asarray(_open(tmp_path / "b" / f)))


def _open(path):
    from PIL import Image

    with Image.open(path) as img:
        return img.copy()


def test_other_seed_other_database(tmp_path):
    a = write_demo_database(DemoDatabase(seed=3, subjects=1, image_size=64), tmp_path / "a")
    write_demo_database(DemoDatabase(seed=4, subjects=1, image_size=64), tmp_path / "b")
    f = a["file"][0]
    assert not np.array_equal(np.asarray(_open(tmp_path / "a" / f)), np.asarray(_open(tmp_path / "b" / f)))


def test_labels_cover_every_subject_and_domain(small_db):
    db, root = small_db
    table = pd.read_csv(root / "annotations.csv")
    assert len(table) == db.subjects * len(DOMAINS)
    counts = table.groupby("subject")["emotion"].apply(lambda e: sorted(e))
    assert all(c == sorted(DOMAINS) for c in counts)
    assert (table.loc[table.emotion == "neutral", "intensity"] == 0).all()
    assert (table.loc[table.emotion != "neutral", "intensity"] > 0).all()


def test_eyes_are_where_the_annotation_says(small_db):
    db, root = small_db
    table = pd.read_csv(root / "annotations.csv")
    for _, row in table.iterrows():
        assert 0 < row.left_eye_x < row.right_eye_x < db.image_size
        assert abs(row.left_eye_y - row.right_eye_y) < db.image_size * 0.2
    # the annotated eye centre is darker than the cheek below it (a pupil sits there)
    row = table.iloc[0]
    img = np.asarray(_open(root / row.file).convert("L"), dtype=float)
    x, y = int(round(row.left_eye_x)), int(round(row.left_eye_y))
    assert img[y, x] < img[min(y + 8, db.image_size - 1), x]


def test_identity_is_kept_across_expressions():
    """Two expressions of one subject look more alike than the same expression on two subjects."""
    same_a, _ = _render(1, "happiness")
    same_b, _ = _render(1, "sadness")
    other, _ = _render(2, "happiness")
    assert np.abs(same_a - same_b).mean() < np.abs(same_a - other).mean()


@pytest.mark.parametrize("emotion", [e for e in DOMAINS if e != "neutral"])
def test_every_expression_changes_the_face(emotion):
    neutral, _ = _render(5, "neutral")
    expressive, _ = _render(5, emotion)
    assert np.abs(neutral - expressive).mean() > 0.2  # neutral vs neutral is exactly 0


def test_intensity_scales_the_change():
    neutral, _ = _render(5, "surprise", 0.0)
    weak, _ = _render(5, "surprise", 0.3)
    strong, _ = _render(5, "surprise", 1.0)
    assert np.abs(neutral - weak).mean() < np.abs(neutral - strong).mean()


def test_prototypes_follow_ekman():
    assert {"AU6", "AU12"} <= set(PROTOTYPES["happiness"])
    assert {"AU1", "AU2", "AU5", "AU26"} <= set(PROTOTYPES["surprise"])
    assert {"AU9", "AU10"} <= set(PROTOTYPES["disgust"])
    assert PROTOTYPES["neutral"] == {}
    with pytest.raises(ValueError, match="allowed"):
        expression_units("contempt", 1.0, np.random.default_rng(0))


def test_unknown_preset_names_allowed_values():
    with pytest.raises(ValueError, match="studio"):
        DemoDatabase(seed=0, subjects=1, imaging="beach")
