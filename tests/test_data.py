"""Loaders, alignment, preparation and subject-disjoint splits."""

import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

from synthfer.data.align import align_face, eye_alignment_matrix
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
    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 64), (120, 120, 120)).save(blank)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    bad = records.iloc[:3].copy()
    bad.loc[bad.index[0], "path"] = str(broken)
    bad.loc[bad.index[1], ["path", "left_eye_x"]] = [str(blank), np.nan]  # no landmarks: the detector runs
    bad.loc[bad.index[2], "path"] = str(empty)
    both = pd.concat([records, bad], ignore_index=True)
    images, faces, rejected = prepare_faces(both, PrepareConfig(image_size=32), threads=1)
    assert images.shape == (len(records), 32, 32) and images.dtype == np.uint8
    assert len(faces) == len(records)
    assert set(rejected["path"]) == {str(broken), str(blank), str(empty)}
    reasons = " ".join(rejected["reason"])
    assert "unreadable" in reasons and "no face detected" in reasons


def test_too_many_rejects_fail_loudly_with_reasons_grouped_and_the_list_kept(small_db, tmp_path):
    _, root = small_db
    records = load_records("demo", root, "db")
    records.loc[records.index[:4], "path"] = [f"/nonexistent/{i}.png" for i in range(4)]
    with pytest.raises(
        TooManyRejectedError,
        match=r"4 of 28 images rejected \(14% > preprocess\.max_rejected_fraction 10%\); most common reasons: "
        r"4 x unreadable: FileNotFoundError: \[Errno 2\] No such file or directory$",
    ) as error:
        prepare_faces(records, PrepareConfig(image_size=32, max_rejected_fraction=0.1))
    assert len(error.value.rejected) == 4  # the whole list travels with the error
    from synthfer.steps.data import prepare_dataset

    out = tmp_path / "out"
    broken = tmp_path / "db"
    shutil.copytree(root, broken)
    for png in sorted((broken / "images").glob("*.png"))[:4]:
        png.write_bytes(b"")
    with pytest.raises(
        TooManyRejectedError, match=r"dataset 'db': .* Every rejected file and its reason: .*prepare\.rejected\.csv"
    ):
        prepare_dataset(
            dataset="db",
            loader="demo",
            raw=broken,
            options={},
            preprocess=PrepareConfig(image_size=32, max_rejected_fraction=0.1),
            images=out / "faces.npz",
            table=out / "faces.csv",
            rejected=out / "rejected.csv",
            threads=1,
            rejected_copy=tmp_path / "logs" / "prepare.rejected.csv",
        )
    kept = pd.read_csv(tmp_path / "logs" / "prepare.rejected.csv")
    assert (
        len(kept) == 4
        and kept["reason"].str.startswith("unreadable: UnidentifiedImageError: cannot identify image file").all()
    )
    assert not out.exists()  # no output written


def test_an_image_over_the_decompression_limit_is_rejected_by_name(small_db, monkeypatch):
    _, root = small_db
    records = load_records("demo", root, "db")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the 64 px demo images are over twice that: PIL refuses them
    _, faces, rejected = prepare_faces(records.iloc[:2], PrepareConfig(image_size=32, max_rejected_fraction=1.0))
    assert len(faces) == 0 and list(rejected["path"]) == list(records["path"].iloc[:2])
    assert (
        rejected["reason"].str.startswith("unreadable: image over PIL's decompression-bomb limit (1000 pixels)").all()
    )


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


def _astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def test_detector_finds_the_eyes_of_a_real_face():
    from synthfer.data.detect import FaceDetector

    found = FaceDetector().detect(np.asarray(_astronaut()))
    assert not isinstance(found, str)
    assert found.left_eye[0] < found.right_eye[0]  # image-left eye first
    assert abs(found.left_eye[1] - found.right_eye[1]) < 10  # upright face: eyes nearly level
    assert 30 < found.right_eye[0] - found.left_eye[0] < 80


@pytest.mark.parametrize("angle,shift", [(0, (0, 0)), (15, (20, -10)), (-20, (-15, 25))])
def test_detection_and_alignment_undo_rotation_and_shift(angle, shift):
    """The aligned crop of a rotated, shifted photo matches the crop of the original, eyes at their targets."""
    from synthfer.data.detect import FaceDetector

    detector = FaceDetector()
    original = _astronaut()
    moved = original.rotate(
        angle, resample=Image.Resampling.BICUBIC, center=(225, 105), translate=shift, fillcolor=(128, 128, 128)
    )
    crops, found = [], []
    for img in (original, moved):
        found.append(detector.detect(np.asarray(img)))
        assert not isinstance(found[-1], str)
        crops.append(align_face(img, found[-1].left_eye, found[-1].right_eye, size=64).astype(float))
    # the original's eyes, carried by the known rotation and shift into the moved photo, then through the
    # alignment computed from the moved photo's own detection: level, at the canonical points, within 2 px
    t, (cx, cy) = np.radians(angle), (225, 105)

    def moved_point(p: np.ndarray) -> np.ndarray:
        x, y = p - (cx, cy)
        return np.array([cx + np.cos(t) * x + np.sin(t) * y + shift[0], cy - np.sin(t) * x + np.cos(t) * y + shift[1]])

    matrix = eye_alignment_matrix(found[1].left_eye, found[1].right_eye, 64, 0.38, 0.38)
    left, right = (matrix @ np.append(moved_point(eye), 1.0) for eye in (found[0].left_eye, found[0].right_eye))
    assert abs(left[1] - right[1]) < 2 and abs(left[1] - 0.38 * 64) < 2  # eyes level, on the eye line
    assert abs(left[0] - (32 - 0.19 * 64)) < 2 and abs(right[0] - (32 + 0.19 * 64)) < 2  # at the canonical distance
    corr = np.corrcoef(crops[0].ravel(), crops[1].ravel())[0, 1]
    assert corr > 0.8, corr
    # and it is not a match any crop would give: another region of the photo does not correlate
    other = align_face(original, np.array([60.0, 400.0]), np.array([110.0, 400.0]), size=64).astype(float)
    assert np.corrcoef(crops[0].ravel(), other.ravel())[0, 1] < 0.6


def test_tight_face_crops_are_kept_and_aligned_as_well_as_full_frames():
    """AffectNet-HQ and Oulu `Cropped/` ship crops in which the face fills the frame; the full-range detector
    alone kept 3-7 of 20 such crops of these photos (filling 90-110%), and put the eyes on the wrong features
    in some of the rest."""
    from photos import tight_crops

    from synthfer.data.detect import FaceDetector

    detector = FaceDetector()
    crops = tight_crops(60)
    found = [detector.detect(np.asarray(crop)) for crop, _ in crops]
    kept = [(f, eyes) for f, (_, eyes) in zip(found, crops) if not isinstance(f, str)]
    assert len(kept) / len(crops) >= 0.97, [f for f in found if isinstance(f, str)]
    errors = [
        np.abs(np.array([f.left_eye, f.right_eye]) - eyes).max() / np.linalg.norm(eyes[1] - eyes[0]) for f, eyes in kept
    ]
    # as on full frames: the two models disagree there by 0.05-0.15 inter-ocular distances
    assert np.median(errors) < 0.1 and max(errors) < 0.2, sorted(errors)[-5:]


def test_sixteen_bit_and_exif_rotated_photos_are_read_as_a_viewer_shows_them(tmp_path):
    """A 16-bit grey PNG used to turn white (PIL clips it), and a phone photo stored on its side with an EXIF
    Orientation tag used to reach the detector sideways."""
    from synthfer.data.prepare import read_image

    gray = np.asarray(_astronaut().convert("L"))
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "deep.png")
    assert np.abs(np.asarray(read_image({"path": str(tmp_path / "deep.png")}), dtype=int) - gray).max() <= 1
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored pixels must be turned 90 degrees clockwise to be upright
    _astronaut().transpose(Image.Transpose.ROTATE_90).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    upright = read_image({"path": str(tmp_path / "phone.jpg")})
    assert upright.size == (512, 512) and np.abs(np.asarray(upright.convert("L"), dtype=int) - gray).mean() < 8
    images, _, rejected = prepare_faces(
        pd.DataFrame(
            [
                {
                    "path": str(tmp_path / f),
                    "subject": "s",
                    "emotion": "anger",
                    "source": "x",
                    "frame": 0,
                    "intensity": np.nan,
                }
                for f in ("deep.png", "phone.jpg")
            ]
        ),
        PrepareConfig(image_size=32),
    )
    assert len(images) == 2 and rejected.empty


def test_the_gans_get_the_faces_of_training_subjects_only(tmp_path):
    from synthfer.data.store import FaceSet, read_store, write_face_set
    from synthfer.steps.data import restrict_to_training_subjects

    table = pd.DataFrame({"subject": [f"a/{i // 7}" for i in range(42)], "emotion": list(DOMAINS) * 6, "source": "a"})
    write_face_set(
        FaceSet(np.arange(42, dtype=np.uint8).reshape(42, 1, 1).repeat(4, 1).repeat(4, 2), table),
        tmp_path / "a/faces.npz",
        tmp_path / "a/faces.csv",
    )
    split = pd.DataFrame(
        {
            "subject": ["a/0", "a/1", "a/2", "a/3", "a/4", "b/0"],
            "split": ["train", "val", "train", "test", "train", "train"],
        }
    )
    split.to_csv(tmp_path / "split.csv", index=False)
    restrict_to_training_subjects(
        faces=[tmp_path / "a/faces.npz", tmp_path / "a/faces.csv"],
        split=tmp_path / "split.csv",
        images=tmp_path / "gan/faces.npz",
        table=tmp_path / "gan/faces.csv",
    )
    given = read_store(tmp_path / "gan")
    assert sorted(given.table["subject"].unique()) == ["a/0", "a/2", "a/4"] and len(given.table) == 21
    assert list(given.images[:, 0, 0]) == [i for i in range(42) if i // 7 in (0, 2, 4)]  # images travel with their rows


def test_the_same_photo_under_two_subjects_is_found_and_a_split_across_it_refused(tmp_path, caplog):
    """A byte-identical photo filed under two subjects gives identical faces: reported always, and refused when
    the split puts its copies on two sides (a train/test leak), unless split.allow_duplicates."""
    from synthfer.data.splits import cross_subject_copies
    from synthfer.data.store import FaceSet, write_face_set
    from synthfer.steps.data import split_real_faces

    rng = np.random.default_rng(0)
    n = 24
    images = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
    subjects = [f"set/{i // 2}" for i in range(n)]  # 12 subjects, 2 faces each
    images[23] = images[0]  # subject 11's second face is subject 0's first photo
    images[3] = images[2]  # one subject's two faces alike: not a cross-subject copy
    table = pd.DataFrame(
        {
            "path": [f"/data/{i}.png" for i in range(n)],
            "subject": subjects,
            "emotion": [DOMAINS[i % 6] for i in range(n)],
        }
    )
    assert [list(rows) for rows in cross_subject_copies(images, table["subject"])] == [[0, 23]]

    store = tmp_path / "store"
    write_face_set(FaceSet(images, table), store / "faces.npz", store / "faces.csv")
    files = [str(store / "faces.npz"), str(store / "faces.csv")]
    out = (str(tmp_path / "out.npz"), str(tmp_path / "out.csv"))
    seeds = [s for s in range(40) if _copies_split(split_subjects(table["subject"], 3, 3, s), (0, 23))]
    assert seeds, "no seed in 40 separates subjects 0 and 11"
    with pytest.raises(ValueError, match=r"1 photo\(s\) appear under two subjects .* split.allow_duplicates: true"):
        split_real_faces(files, 3, 3, seeds[0], *out, stratify=False)
    with caplog.at_level("WARNING", logger="synthfer"):
        split_real_faces(files, 3, 3, seeds[0], *out, stratify=False, allow_duplicates=True)
    assert "the same face under 2 subjects: /data/0.png (set/0," in caplog.text


def _copies_split(split: pd.Series, rows: tuple[int, int]) -> bool:
    return split.iloc[rows[0]] != split.iloc[rows[1]]
