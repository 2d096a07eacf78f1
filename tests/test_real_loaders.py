"""Each real-dataset loader on a fixture tree with the dataset's exact file names and label codes."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from synthfer.data.loaders import DatasetMissingError, load_records


def _img(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(path)
    return path


def test_rafd_frontal_camera_and_gaze_by_default(tmp_path):
    for f in [
        "Rafd090_01_Caucasian_female_angry_frontal.jpg",
        "Rafd090_01_Caucasian_female_contemptuous_frontal.jpg",
        "Rafd090_12_Moroccan_male_surprised_frontal.jpg",
        "Rafd045_01_Caucasian_female_happy_frontal.jpg",
        "Rafd090_12_Moroccan_male_sad_left.jpg",
        "Rafd090_12_Moroccan_male_neutral_frontal.jpg",
    ]:
        _img(tmp_path / f)
    t = load_records("rafd", tmp_path, "rafd")
    assert sorted(zip(t.subject, t.emotion)) == [("rafd/01", "anger"), ("rafd/12", "neutral"), ("rafd/12", "surprise")]
    t = load_records("rafd", tmp_path, "rafd", {"angles": [45, 90], "gazes": ["frontal", "left"]})
    assert set(t.emotion) == {"anger", "surprise", "happiness", "sadness", "neutral"}  # contempt still dropped


def test_kdef_subject_is_gender_and_id_across_sessions(tmp_path):
    for f in [
        "KDEF/AF01/AF01ANS.JPG",
        "KDEF/BF01/BF01AFS.JPG",
        "KDEF/AM02/AM02HAS.JPG",
        "KDEF/AM02/AM02HAFL.JPG",
        "KDEF/AM02/AM02NES.JPG",
    ]:
        _img(tmp_path / f)
    t = load_records("kdef", tmp_path, "kdef")
    assert sorted(zip(t.subject, t.emotion)) == [
        ("kdef/F01", "anger"),
        ("kdef/F01", "fear"),
        ("kdef/M02", "happiness"),
        ("kdef/M02", "neutral"),
    ]


def test_jaffe_codes(tmp_path):
    for f in ["KA.AN1.39.tiff", "KA.DI2.43.tiff", "YM.SU3.60.tiff", "YM.NE1.49.tiff", "README.txt"]:
        _img(tmp_path / f) if f.endswith("tiff") else (tmp_path / f).write_text("x")
    t = load_records("jaffe", tmp_path, "jaffe")
    assert sorted(zip(t.subject, t.emotion)) == [
        ("jaffe/KA", "anger"),
        ("jaffe/KA", "disgust"),
        ("jaffe/YM", "neutral"),
        ("jaffe/YM", "surprise"),
    ]


def test_ckplus_labelled_sequences_apex_and_first_frame(tmp_path):
    for seq, n, code in [("S005/001", 11, "3.0000000e+00"), ("S010/002", 14, "2.0000000e+00"), ("S011/001", 9, None)]:
        s, q = seq.split("/")
        for i in range(1, n + 1):
            _img(tmp_path / f"cohn-kanade-images/{seq}/{s}_{q}_{i:08d}.png")
        if code:
            p = tmp_path / f"Emotion/{seq}/{s}_{q}_{n:08d}_emotion.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f"   {code}\n")
    t = load_records("ckplus", tmp_path, "ck")
    assert list(zip(t.subject, t.emotion, t.frame)) == [
        ("ck/S005", "disgust", 10)
    ]  # contempt (2) and unlabelled dropped
    t = load_records("ckplus", tmp_path, "ck", {"apex_frames": 3, "neutral_first_frame": True})
    # apex frames of the disgust sequence; first frames of both labelled sequences (contempt's too) as neutral
    assert sorted(t.frame) == [0, 0, 8, 9, 10] and (t.loc[t.frame == 0, "emotion"] == "neutral").all()
    assert set(t.loc[t.frame == 0, "subject"]) == {"ck/S005", "ck/S010"}


def test_affectnet_eyes_from_landmarks_and_codes(tmp_path):
    pts = np.zeros((68, 2))
    pts[36:42] = [10, 20]
    pts[42:48] = [30, 22]
    marks = ";".join(f"{v:.1f}" for v in pts.flatten())
    rows = [("1/a.jpg", 1), ("1/b.jpg", 7), ("2/c.jpg", 6), ("2/d.jpg", 10)]
    for f, _ in rows:
        _img(tmp_path / "Manually_Annotated_Images" / f)
    pd.DataFrame(
        [
            {
                "subDirectory_filePath": f,
                "face_x": 0,
                "face_y": 0,
                "face_width": 8,
                "face_height": 8,
                "facial_landmarks": marks,
                "expression": e,
                "valence": 0,
                "arousal": 0,
            }
            for f, e in rows
        ]
    ).to_csv(tmp_path / "training.csv", index=False)
    t = load_records("affectnet", tmp_path, "an", {"csv": ["training.csv"]})
    assert list(t.emotion) == ["happiness", "anger"]  # contempt and no-face dropped
    assert t.subject.nunique() == 2  # every image its own identity
    assert (t.left_eye_x == 10).all() and (t.right_eye_y == 22).all()


def test_folder_loader_with_subject_regex(tmp_path):
    for f in ["angry/p01_1.png", "happy/p01_2.png", "happy/p02_1.png", "contempt/p03_1.png"]:
        _img(tmp_path / f)
    t = load_records("folder", tmp_path, "mine", {"subject_regex": r"^(p\d+)_"})
    assert sorted(zip(t.subject, t.emotion)) == [
        ("mine/p01", "anger"),
        ("mine/p01", "happiness"),
        ("mine/p02", "happiness"),
    ]
    with pytest.raises(ValueError, match="does not match"):
        load_records("folder", tmp_path, "mine", {"subject_regex": r"^(q\d+)_"})


def test_a_wrong_layout_is_reported_not_silently_empty(tmp_path):
    _img(tmp_path / "something.png")
    with pytest.raises(DatasetMissingError, match="no images in the 'rafd' layout"):
        load_records("rafd", tmp_path, "rafd")


def test_oulu_apex_frames_and_neutral_first(tmp_path):
    for subject, emotion, n in [("P001", "Happiness", 6), ("P001", "Anger", 5), ("P002", "Surprise", 4)]:
        for i in range(n):
            _img(tmp_path / f"OriginalImg/VL/Strong/{subject}/{emotion}/{i:03d}.jpeg")
    _img(tmp_path / "OriginalImg/NI/Strong/P003/Fear/000.jpeg")  # near-infrared: not the default modality
    t = load_records("oulu", tmp_path, "oulu", {"apex_frames": 2})
    assert len(t) == 6 and set(t.subject) == {"oulu/P001", "oulu/P002"}
    happy = t[t.emotion == "happiness"]
    assert sorted(happy.frame) == [4, 5]  # the last two frames of a 6-frame sequence
    t = load_records("oulu", tmp_path, "oulu", {"apex_frames": 1, "neutral_first_frame": True})
    assert (t[t.frame == 0].emotion == "neutral").all() and (t.emotion == "neutral").sum() == 3


def _mmi_session(root: Path, session: str, stem: str, code: int, frames: int = 9) -> Path:
    import cv2

    folder = root / "Sessions" / session
    folder.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(folder / f"{stem}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 32))
    for i in range(frames):  # frame i: left half at 20*i, right half bright
        frame = np.full((32, 64, 3), 250, np.uint8)
        frame[:, :32] = 20 * i
        writer.write(frame)
    writer.release()
    (folder / f"{stem}.xml").write_text(
        f'<?xml version="1.0"?>\n<Session><Meta-Data Name="Gender" Value="Male"/><Meta-Data Name="Emotion" Value="{code}"/></Session>\n'
    )
    return folder / f"{stem}.avi"


def test_mmi_middle_frames_codes_and_views(tmp_path):
    from synthfer.data.prepare import read_image

    _mmi_session(tmp_path, "101", "S001-001", 4)
    _mmi_session(tmp_path, "102", "S002-003", 2)
    _mmi_session(tmp_path, "103", "S002-004", 7)  # not a basic emotion: dropped
    t = load_records("mmi", tmp_path, "mmi", {"apex_frames": 3, "dual_view": {"102": "left"}, "rotate": {"101": 90}})
    assert sorted(set(zip(t.subject, t.emotion))) == [("mmi/S001", "happiness"), ("mmi/S002", "disgust")]
    assert sorted(t.loc[t.subject == "mmi/S001", "frame"]) == [3, 4, 5]  # around the middle of 9 frames
    middle = t[(t.subject == "mmi/S002") & (t.frame == 4)].iloc[0].to_dict()
    left = np.asarray(read_image(middle).convert("L"), dtype=float)
    assert left.shape == (32, 32) and abs(left.mean() - 80) < 12  # the left view, frame 4
    turned = read_image(t[t.subject == "mmi/S001"].iloc[0].to_dict())
    assert turned.size == (32, 64)  # rotated by 90 degrees


def test_the_readme_lists_every_loader_option_as_declared():
    from synthfer.data.loader_options import options_markdown

    readme = (Path(__file__).resolve().parents[1] / "docs" / "datasets.md").read_text()
    start = readme.index("<!-- loader options:")
    table = readme[readme.index("\n", start) + 1 : readme.index("<!-- end of loader options -->")].strip()
    assert table == options_markdown(), (
        "README's loader options differ from loader_options.OPTIONS: paste options_markdown() there"
    )


def test_every_loader_skips_os_debris_wherever_it_sits(tmp_path):
    """The Oulu case of the real-data campaign: a .DS_Store inside a person's folder stopped the loader."""
    for seq in ["P001/Happiness", "P002/Anger"]:
        for i in range(4):
            _img(tmp_path / f"OriginalImg/VL/Strong/{seq}/{i:03d}.jpeg")
    for junk in [
        "OriginalImg/VL/Strong/P001/.DS_Store",
        "OriginalImg/VL/Strong/P001/Thumbs.db",
        "OriginalImg/VL/Strong/README.txt",
        "OriginalImg/VL/Strong/P001/Happiness/._000.jpeg",
        "OriginalImg/VL/Strong/P001/Happiness/desktop.ini",
        "__MACOSX/OriginalImg/VL/Strong/P001/Happiness/._001.jpeg",
    ]:
        (tmp_path / junk).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / junk).write_bytes(b"\x00\x05\x16\x07junk")
    t = load_records("oulu", tmp_path, "oulu", {"apex_frames": 2})
    assert sorted(zip(t.subject, t.emotion, t.frame)) == [
        ("oulu/P001", "happiness", 2),
        ("oulu/P001", "happiness", 3),
        ("oulu/P002", "anger", 2),
        ("oulu/P002", "anger", 3),
    ]
    for folder in ["happy", "sad"]:
        _img(tmp_path / "own" / folder / "a.png")
        (tmp_path / "own" / folder / "._a.png").write_bytes(b"\x00\x05\x16\x07")
    (tmp_path / "own" / "__MACOSX" / "happy").mkdir(parents=True)
    (tmp_path / "own" / "__MACOSX" / "happy" / "._a.png").write_bytes(b"\x00\x05\x16\x07")
    assert sorted(load_records("folder", tmp_path / "own", "own")["emotion"]) == ["happiness", "sadness"]


def test_rafd_names_in_any_case_are_read_and_other_images_are_listed(tmp_path):
    """RaFD's files come as Rafd090_..., rafd090_... or RAFD090_...: all are read; an image that is not a RaFD name
    goes to the rejected list with its reason instead of vanishing."""
    for f in [
        "Rafd090_01_Caucasian_female_angry_frontal.jpg",
        "rafd090_02_Caucasian_male_happy_frontal.jpg",
        "RAFD090_03_Moroccan_male_sad_frontal.JPG",
        "photo_of_subject_4.jpg",
    ]:
        _img(tmp_path / f)
    t = load_records("rafd", tmp_path, "rafd")
    kept = t[t["reject"].isna()]
    assert sorted(zip(kept.subject, kept.emotion)) == [
        ("rafd/01", "anger"),
        ("rafd/02", "happiness"),
        ("rafd/03", "sadness"),
    ]
    rejected = t[t["reject"].notna()]
    assert [Path(p).name for p in rejected.path] == ["photo_of_subject_4.jpg"]
    assert "not a RaFD file name" in rejected["reject"].iloc[0]


def test_every_format_pillow_reads_is_read_and_other_files_are_named_in_the_log(tmp_path, caplog):
    """A .webp face in a class folder is a face; a .txt beside it is named in the log, not dropped silently."""
    _img(tmp_path / "happy" / "a.png")
    Image.fromarray(np.full((8, 8), 90, np.uint8)).save(tmp_path / "happy" / "b.webp")
    (tmp_path / "happy" / "notes.txt").write_text("taken in 2019")
    with caplog.at_level("WARNING", logger="synthfer"):
        t = load_records("folder", tmp_path, "own")
    assert sorted(Path(p).name for p in t.path) == ["a.png", "b.webp"]
    assert "1 file(s) in" in caplog.text and "notes.txt" in caplog.text


def test_one_subject_written_composed_or_decomposed_is_one_subject(tmp_path):
    """macOS writes names decomposed (NFD): José from a Mac and José typed elsewhere (NFC) are one person."""
    import unicodedata

    composed, decomposed = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
    assert composed != decomposed
    _img(tmp_path / "happy" / f"{composed}_1.png")
    _img(tmp_path / "sad" / f"{decomposed}_2.png")
    t = load_records("folder", tmp_path, "own", {"subject_regex": r"^(.+)_\d+\."})
    assert t["subject"].nunique() == 1 and t["subject"].iloc[0] == f"own/{composed}"


def test_a_labels_table_finds_its_files_however_their_accents_were_written(tmp_path):
    import unicodedata

    on_disk = unicodedata.normalize("NFD", "Zoë_smile.png")
    _img(tmp_path / "faces" / on_disk)
    table = tmp_path / "labels.csv"
    table.write_text(f"file,emotion,subject\n{unicodedata.normalize('NFC', 'Zoë_smile.png')},happy,Zoë\n")
    t = load_records("folder", tmp_path / "faces", "own", labels=table)
    assert t["reject"].isna().all() and Path(t["path"].iloc[0]).name == on_disk
    assert t["subject"].iloc[0] == unicodedata.normalize("NFC", "own/Zoë")


def test_a_demo_annotations_file_without_a_column_says_which_and_what_it_holds(tmp_path):
    (tmp_path / "annotations.csv").write_text("file,subject,intensity\nimages/a.png,1,0.5\n")
    with pytest.raises(ValueError, match=r"annotations.csv has no emotion, left_eye_x, .* column; .* has the columns"):
        load_records("demo", tmp_path, "demo_set")
