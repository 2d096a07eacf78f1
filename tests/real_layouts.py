"""Dataset trees in each release's own layout, made of real photos, with what real copies carry besides data.

Full frames for the datasets that ship them (RaFD, CK+, MMI, AffectNet), tight 224 px face crops for those
that ship crops (AffectNet-HQ as class folders, Oulu-CASIA `Cropped/`), and in every tree: OS debris
(`.DS_Store`, AppleDouble `._*`, `Thumbs.db`, `desktop.ini`, `__MACOSX/`, a README), and the broken files a
copy can hold (an empty video, an annotation that is not XML, a label file without a number, an AffectNet row
without landmarks). Each builder returns what the loader must make of its tree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from photos import EYES, photo, tight_crop
from PIL import Image

APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02"  # the header of a real ._ file
EMOTION_WORDS = {
    "anger": "angry",
    "disgust": "disgusted",
    "fear": "fearful",
    "happiness": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprise": "surprised",
}
EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")


def debris(folder: Path, beside: str | None = None) -> None:
    """What macOS, Windows and archivers leave in a folder: none of it is data."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(64))
    (folder / "Thumbs.db").write_bytes(bytes(128))
    (folder / "desktop.ini").write_text("[.ShellClassInfo]\n")
    if beside:
        (folder / f"._{beside}").write_bytes(APPLE_DOUBLE)
        (folder / "__MACOSX").mkdir(exist_ok=True)
        (folder / "__MACOSX" / f"._{beside}").write_bytes(APPLE_DOUBLE)


def full_frame(i: int, size: int = 256) -> tuple[Image.Image, np.ndarray]:
    """Photo i (alternating the two), scaled to `size` px wide, mirrored every other pair; its eye centres."""
    name = ("astronaut", "hopper")[i % 2]
    image = photo(name)
    scale = size / image.width
    image = image.resize((size, round(image.height * scale)), Image.Resampling.BICUBIC)
    eyes = EYES[name] * scale
    if (i // 2) % 2:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        eyes = np.array([[size - eyes[1, 0], eyes[1, 1]], [size - eyes[0, 0], eyes[0, 1]]])
    return image, eyes


def crop(i: int) -> Image.Image:
    rng = np.random.default_rng(i)
    return tight_crop(
        ("astronaut", "hopper")[i % 2],
        rng.uniform(0.75, 1.05),
        tuple(rng.uniform(-0.05, 0.05, 2)),
        brightness=rng.uniform(0.8, 1.2),
    )[0]


def write_rafd(root: Path, subjects: int = 6) -> dict:
    """Flat folder of full frames, frontal camera and gaze; contempt is dropped by the loader."""
    root.mkdir(parents=True, exist_ok=True)
    for s in range(1, subjects + 1):
        for j, emotion in enumerate([*EMOTION_WORDS.values(), "contemptuous"]):
            full_frame(s + j)[0].save(root / f"Rafd090_{s:02d}_Caucasian_female_{emotion}_frontal.jpg")
    debris(root, beside="Rafd090_01_Caucasian_female_angry_frontal.jpg")
    (root / "README.txt").write_text("Radboud Faces Database\n")
    return {"faces": subjects * 7, "subjects": subjects, "rejected": []}


def write_oulu_cropped(root: Path, people: int = 4, frames: int = 4) -> dict:
    """`Cropped/VL/Strong/P001/Happiness/000.jpeg ...`: tight crops, a `.DS_Store` inside a person's folder."""
    base = root / "Cropped" / "VL" / "Strong"
    for p in range(1, people + 1):
        for e, emotion in enumerate(EMOTIONS):
            sequence = base / f"P{p:03d}" / emotion.capitalize()
            sequence.mkdir(parents=True, exist_ok=True)
            for f in range(frames):
                crop(100 * p + 10 * e + f).save(sequence / f"{f:03d}.jpeg")
        debris(base / f"P{p:03d}")  # the .DS_Store that stopped the loader with NotADirectoryError
    (base / "README.txt").write_text("Oulu-CASIA NIR&VIS, cropped\n")
    debris(base / "P001" / "Happiness", beside="000.jpeg")
    return {"faces": people * 6 * 2, "subjects": people, "rejected": []}  # options apex_frames 1 + neutral_first_frame


def write_affectnet_hq(root: Path, per_class: int = 3) -> dict:
    """AffectNet-HQ: a folder per class of tight 224 px crops; contempt is dropped."""
    for c, folder in enumerate(["anger", "disgust", "fear", "happy", "neutral", "sad", "surprise", "contempt"]):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            crop(1000 + 10 * c + i).save(root / folder / f"image{c:02d}{i:03d}.jpg")
        debris(root / folder, beside=f"image{c:02d}000.jpg")
    return {"faces": 7 * per_class, "rejected": []}


def _mmi_xml(path: Path, code: int, view: int = 0) -> None:
    """The three XML files of a session as the release ships them: `<stem>.xml` (Metatag elements, the emotion
    among them), `session.xml` (the camera view of its track) and `<stem>-oao_aucs.xml` (action-unit timing)."""
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<Metadata>\n  <Metatag Name="Gender" Value="Female"/>\n'
        f'  <Metatag Name="Emotion" Value="{code}"/>\n</Metadata>\n'
    )
    (path.parent / "session.xml").write_text(
        f'<?xml version="1.0"?>\n<session sessionId="{path.parent.name}">\n'
        f'  <track id="0" type="Video" view="{view}"/>\n  <annotation filename="{path.stem}-oao_aucs.xml"/>\n</session>\n'
    )
    (path.parent / f"{path.stem}-oao_aucs.xml").write_text(
        '<?xml version="1.0"?>\n<ActionUnits><ActionUnit Number="12">'
        '<Marker Frame="3" Type="1"/></ActionUnit></ActionUnits>\n'
    )


def _video(path: Path, frames: int = 5) -> None:
    import cv2

    image = np.asarray(full_frame(0)[0])[:, :, ::-1]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (image.shape[1], image.shape[0]))
    for _ in range(frames):
        writer.write(np.ascontiguousarray(image))
    writer.release()


def write_mmi(root: Path) -> dict:
    """`Sessions/{n}/S001-001.avi` + its XML files: videos and stills, a profile session, an empty video, an
    annotation that is not XML."""
    sessions = root / "Sessions"
    good = [
        ("1", "S001-001", 4, "avi"),
        ("2", "S001-002", 6, "avi"),
        ("3", "S002-001", 1, "jpg"),
        ("4", "S002-002", 2, "jpg"),
        ("5", "S003-001", 3, "jpg"),
        ("6", "S003-002", 5, "jpg"),
    ]
    for session, stem, code, kind in good:
        (sessions / session).mkdir(parents=True, exist_ok=True)
        _mmi_xml(sessions / session / f"{stem}.xml", code)
        _video(sessions / session / f"{stem}.avi") if kind == "avi" else full_frame(int(session))[0].save(
            sessions / session / f"{stem}.jpg"
        )
    debris(sessions / "1", beside="S001-001.xml")  # an AppleDouble ._S001-001.xml: binary, would not parse
    (sessions / "7").mkdir()
    _mmi_xml(sessions / "7" / "S004-001.xml", 4)
    (sessions / "7" / "S004-001.avi").write_bytes(b"")  # copied as an empty file
    (sessions / "9").mkdir()
    _mmi_xml(sessions / "9" / "S005-001.xml", 4, view=1)  # a profile camera: left out by options.views
    full_frame(9)[0].save(sessions / "9" / "S005-001.jpg")
    (sessions / "8").mkdir()
    (sessions / "8" / "S004-002.xml").write_text("<Session><Meta-Data Name=")  # cut short
    full_frame(8)[0].save(sessions / "8" / "S004-002.jpg")
    return {
        "faces": 6,
        "rejected": {
            "Sessions/7/S004-001.avi": "unreadable video",
            "Sessions/8/S004-002.xml": "unreadable annotation: XML ParseError",
        },
    }


def write_ckplus(root: Path) -> dict:
    """`cohn-kanade-images/S005/001/*.png` + `Emotion/.../*_emotion.txt`; a label file without a number."""
    for s, (subject, code) in enumerate([("S005", 3), ("S010", 1), ("S011", 5), ("S014", 7), ("S022", 2)]):
        frames = root / "cohn-kanade-images" / subject / "001"
        frames.mkdir(parents=True, exist_ok=True)
        for f in range(1, 4):
            full_frame(s + f)[0].convert("L").save(frames / f"{subject}_001_{f:08d}.png")
        labels = root / "Emotion" / subject / "001"
        labels.mkdir(parents=True, exist_ok=True)
        (labels / f"{subject}_001_00000003_emotion.txt").write_text(f"   {code:.7e}\n")
        debris(labels, beside=f"{subject}_001_00000003_emotion.txt")
    (root / "Emotion" / "S022" / "001" / "S022_001_00000003_emotion.txt").write_text("n/a\n")
    return {
        "faces": 4,
        "rejected": {"Emotion/S022/001/S022_001_00000003_emotion.txt": "unreadable label file"},
    }  # the last frame of each


def write_affectnet(root: Path) -> dict:
    """`Manually_Annotated_Images/` + `training.csv` with 68 landmarks; rows decided by their label first."""
    images = root / "Manually_Annotated_Images" / "1"
    images.mkdir(parents=True, exist_ok=True)
    rows = ["subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"]
    codes = [0, 1, 2, 3, 4, 5, 6, 7, 1, ""]  # 7 contempt (dropped even without landmarks); then two malformed kept rows
    for i, code in enumerate(codes):
        image, eyes = full_frame(i)
        image.save(images / f"face{i}.jpg")
        points = np.zeros((68, 2))
        points[36:42], points[42:48] = eyes[0], eyes[1]
        landmarks = "" if i >= 7 else ";".join(f"{v:.1f}" for v in points.ravel())
        rows.append(f"1/face{i}.jpg,0,0,256,256,{landmarks},{code},0.1,0.2")
    (root / "training.csv").write_text("\n".join(rows) + "\n")
    (root / "validation.csv").write_text(rows[0] + "\n")
    debris(root, beside="training.csv")
    return {
        "faces": 7,
        "rejected": {
            "Manually_Annotated_Images/1/face8.jpg": "malformed row 10 of training.csv: facial_landmarks holds 0 points",
            "Manually_Annotated_Images/1/face9.jpg": "malformed row 11 of training.csv: expression '' is not a code",
        },
    }


KDEF_CODES = {
    "anger": "AN",
    "disgust": "DI",
    "fear": "AF",
    "happiness": "HA",
    "neutral": "NE",
    "sadness": "SA",
    "surprise": "SU",
}


def write_kdef(root: Path) -> dict:
    """`KDEF/AF01/AF01ANS.JPG`: session, gender, id, expression, angle; straight faces kept, half-left left out."""
    for i, person in enumerate(["AF01", "AM02", "BF01"]):
        folder = root / "KDEF" / person
        folder.mkdir(parents=True, exist_ok=True)
        for j, code in enumerate(KDEF_CODES.values()):
            full_frame(i + j, size=280)[0].save(folder / f"{person}{code}S.JPG")
        full_frame(i, size=280)[0].save(folder / f"{person}HAHL.JPG")  # a half-left camera: not in options.angles
        debris(folder, beside=f"{person}ANS.JPG")
    return {"faces": 3 * 7, "rejected": []}  # AF01 and BF01 are one subject, F01, in two sessions


def write_jaffe(root: Path) -> dict:
    """Flat `KA.AN1.39.tiff` grey images; a README and debris beside them."""
    root.mkdir(parents=True, exist_ok=True)
    n = 0
    for s, person in enumerate(["KA", "YM"]):
        for j, code in enumerate(["AN", "DI", "FE", "HA", "NE", "SA", "SU"]):
            n += 1
            full_frame(s + j)[0].convert("L").resize((256, 256)).save(root / f"{person}.{code}{j % 3 + 1}.{n}.tiff")
    (root / "README_FIRST.txt").write_text("JAFFE\n")
    debris(root, beside="KA.AN1.1.tiff")
    return {"faces": 14, "rejected": []}


def write_fer2013(root: Path) -> dict:
    """`fer2013.csv`: 48 px grey crops of the photos as pixel text, a row without a label and one with damaged pixels."""
    root.mkdir(parents=True, exist_ok=True)
    rows = ["emotion,pixels,Usage"]
    for i in range(14):
        pixels = np.asarray(crop(2000 + i).convert("L").resize((48, 48)))
        rows.append(f"{i % 7},{' '.join(map(str, pixels.ravel()))},{('Training', 'PublicTest', 'PrivateTest')[i % 3]}")
    rows.append(f",{' '.join(['128'] * 2304)},Training")  # row 16: an emotion cell left empty
    rows.append("3,12 x 7,Training")  # row 17: pixels that are no numbers
    (root / "fer2013.csv").write_text("\n".join(rows) + "\n")
    return {
        "faces": 14,
        "rejected": {
            "fer2013.csv#14": "malformed row: emotion code ''",
            "fer2013.csv#15": "unreadable: OSError: damaged pixel row",
        },
    }
