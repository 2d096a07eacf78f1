"""Loaders for the real datasets of the studies, each reading its own published layout.

Every loader maps the dataset's own label codes to the canonical names (`labels.DOMAINS`) and drops what
does not map (contempt, 'none', 'uncertain'); the subject key comes from the layout, never from a substring
guess. See ../shared/notes/datasets.md for the layouts these follow.

What is not data is skipped wherever it sits (`is_data`: hidden files such as `.DS_Store` and AppleDouble
`._*` files, `Thumbs.db`, `desktop.ini`, `__MACOSX/`, readme files). What the layout says is data but cannot
be read (an annotation file that does not parse, a video without frames, a malformed table row whose label
is kept) becomes a record with a `reject` reason, so that it is listed in `rejected.csv` and counts toward
`max_rejected_fraction`. Options come with their defaults from `loader_options.OPTIONS`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthfer.data.loader_options import resolve_options
from synthfer.data.records import EYE_COLUMNS, IMAGE_SUFFIXES, RECORD_COLUMNS, REJECT_COLUMN, VIDEO_SUFFIXES

CLASS_SYNONYMS: dict[str, str] = {
    "anger": "anger",
    "angry": "anger",
    "angery": "anger",  # angery: the folder name in the paper authors' StarGAN output
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "happiness": "happiness",
    "happy": "happiness",
    "sadness": "sadness",
    "sad": "sadness",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
}
"""Folder and file-name words for the canonical classes (anything else, e.g. contempt, is dropped)."""


OS_DEBRIS = frozenset(
    {"thumbs.db", "ehthumbs.db", "desktop.ini", "__macosx", "$recycle.bin", "system volume information"}
)


def is_data(path: Path, root: Path) -> bool:
    """False for what operating systems and archivers leave beside data, anywhere below `root`."""
    return not any(part.startswith(".") or part.lower() in OS_DEBRIS for part in path.relative_to(root).parts)


def _files(root: Path, pattern: str) -> list[Path]:
    """Files below `root` matching a glob pattern, in sorted order, without OS debris."""
    return sorted(p for p in root.glob(pattern) if p.is_file() and is_data(p, root))


log = logging.getLogger("synthfer")


def _image_files(folder: Path, name: str) -> list[Path]:
    """The image files in `folder` (any suffix Pillow reads); the other files there are named in the log, never
    dropped without a word."""
    files = _files(folder, "*")
    others = [p.name for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if others:
        log.warning(
            "dataset %r: %d file(s) in %s skipped, not images Pillow reads: %s%s",
            name,
            len(others),
            folder,
            ", ".join(others[:10]),
            f" and {len(others) - 10} more" if len(others) > 10 else "",
        )
    return [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]


def nfc(text: str) -> str:
    """`text` in Unicode's composed form (NFC): macOS writes names decomposed (NFD), and the same subject must be
    one key however its accents were written."""
    return unicodedata.normalize("NFC", text)


def _dirs(folder: Path) -> list[Path]:
    """The sub-folders of `folder` (not files next to them: `.DS_Store`, a README), without OS debris."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and is_data(p, folder)) if folder.is_dir() else []


def _rejected(path: Path | str, reason: str, subject: str, name: str, frame: int = 0) -> dict[str, Any]:
    """A record the layout lists but that cannot be used: it goes to rejected.csv with `reason`."""
    return {
        "path": str(path),
        "subject": subject,
        "emotion": None,
        "source": name,
        "frame": frame,
        "intensity": np.nan,
        REJECT_COLUMN: reason,
    }


def _table(rows: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=[*RECORD_COLUMNS, *EYE_COLUMNS, *extra, REJECT_COLUMN])
    return table[table["emotion"].notna() | table[REJECT_COLUMN].notna()].reset_index(drop=True)


def load_rafd(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """RaFD: flat folder of `Rafd{angle}_{id}_{ethnicity}_{gender}_{emotion}_{gaze}.jpg`.

    options: `angles` (default [90], the frontal camera), `gazes` (default ['frontal']).
    """
    opts = resolve_options("rafd", options)
    angles, gazes = set(opts["angles"]), set(opts["gazes"])
    pattern = re.compile(
        r"^Rafd(\d{3})_(\d+)_([A-Za-z-]+)_(female|male)_([a-z]+)_(frontal|left|right)\.jpe?g$", re.IGNORECASE
    )
    rows = []
    for path in _files(root, "**/*"):  # every file: RaFD's names come as Rafd090_..., rafd090_... or RAFD090_...
        m = pattern.match(path.name)
        if not m:
            if path.suffix.lower() in IMAGE_SUFFIXES:
                rows.append(
                    _rejected(path, "not a RaFD file name (Rafd{angle}_{id}_..._{gaze}.jpg)", f"{name}/?", name)
                )
            continue
        if int(m.group(1)) not in angles or m.group(6).lower() not in gazes:
            continue
        rows.append(
            {
                "path": str(path),
                "subject": f"{name}/{int(m.group(2)):02d}",
                "emotion": CLASS_SYNONYMS.get(m.group(5).lower()),
                "source": name,
                "frame": 0,
                "intensity": np.nan,
            }
        )
    return _table(rows)


KDEF_CODES = {
    "AF": "fear",
    "AN": "anger",
    "DI": "disgust",
    "HA": "happiness",
    "NE": "neutral",
    "SA": "sadness",
    "SU": "surprise",
}


def load_kdef(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """KDEF: `KDEF/AF01/AF01ANS.JPG`: session A/B, gender F/M, id, expression code, angle.

    options: `angles` (default ['S'], straight; also FL, HL, HR, FR), `sessions` (default ['A', 'B']).
    The subject is gender + id (AF01 and BF01 are the same person in two sessions).
    """
    opts = resolve_options("kdef", options)
    angles, sessions = set(opts["angles"]), set(opts["sessions"])
    pattern = re.compile(r"^([AB])([FM])(\d{2})([A-Z]{2})(FL|HL|S|HR|FR)\.JPE?G$", re.IGNORECASE)
    rows = []
    for path in _files(root, "**/*"):
        m = pattern.match(path.name)
        if not m or m.group(5).upper() not in angles or m.group(1).upper() not in sessions:
            continue
        rows.append(
            {
                "path": str(path),
                "subject": f"{name}/{m.group(2).upper()}{m.group(3)}",
                "emotion": KDEF_CODES.get(m.group(4).upper()),
                "source": name,
                "frame": 0 if m.group(1).upper() == "A" else 1,
                "intensity": np.nan,
            }
        )
    return _table(rows)


JAFFE_CODES = {
    "AN": "anger",
    "DI": "disgust",
    "FE": "fear",
    "HA": "happiness",
    "NE": "neutral",
    "SA": "sadness",
    "SU": "surprise",
}


def load_jaffe(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """JAFFE: `KA.AN1.39.tiff`: subject initials, expression code and index, image number."""
    pattern = re.compile(r"^([A-Z]{2})\.([A-Z]{2})(\d+)\.(\d+)\.tiff?$", re.IGNORECASE)
    rows = []
    for path in _files(root, "**/*"):
        m = pattern.match(path.name)
        if m:
            rows.append(
                {
                    "path": str(path),
                    "subject": f"{name}/{m.group(1).upper()}",
                    "emotion": JAFFE_CODES.get(m.group(2).upper()),
                    "source": name,
                    "frame": int(m.group(3)),
                    "intensity": np.nan,
                }
            )
    return _table(rows)


def load_oulu(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """Oulu-CASIA NIR&VIS: `OriginalImg/VL/Strong/P001/Happiness/000.jpeg ...`, one folder per sequence.

    Sequences go from neutral to apex. options: `modality` (default 'VL', visible light), `lighting` (default
    ['Strong']), `apex_frames` (default 3: the last n frames carry the emotion), `neutral_first_frame`
    (default false: also take each sequence's first frame as neutral). Also reads `Cropped/` releases when
    `OriginalImg/` is absent.
    """
    base = root / "OriginalImg" if (root / "OriginalImg").exists() else root / "Cropped"
    opts = resolve_options("oulu", options)
    apex, neutral_first = opts["apex_frames"], opts["neutral_first_frame"]
    rows = []
    sequences = [
        seq
        for lighting in opts["lighting"]
        for person in _dirs(base / opts["modality"] / lighting)
        if person.name.startswith("P")
        for seq in _dirs(person)
    ]
    for sequence in sequences:
        emotion = CLASS_SYNONYMS.get(sequence.name.lower())
        frames = _image_files(sequence, name)
        if emotion is None or not frames:
            continue
        picks = [(i, emotion) for i in range(max(0, len(frames) - apex), len(frames))]
        if neutral_first and len(frames) > apex:
            picks.append((0, "neutral"))
        for i, label in picks:
            rows.append(
                {
                    "path": str(frames[i]),
                    "subject": f"{name}/{sequence.parent.name}",
                    "emotion": label,
                    "source": name,
                    "frame": i,
                    "intensity": np.nan,
                }
            )
    return _table(rows)


MMI_CODES = {1: "anger", 2: "disgust", 3: "fear", 4: "happiness", 5: "sadness", 6: "surprise"}


def _mmi_emotion(xml_path: Path) -> str | None:
    """The basic emotion in an MMI video's metadata file, or None; raises ET.ParseError for a file that is not XML.

    The release ships `<Metatag Name="Emotion" Value="4"/>` elements in `<stem>.xml` (the public parsers of
    MMI downloads agree on this); `Meta-Data` and lower-case attribute names are read the same way.
    """
    for element in ET.parse(xml_path).getroot().iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        attributes = {k.lower(): v for k, v in element.attrib.items()}
        if tag in ("metatag", "meta-data", "metadata") and attributes.get("name", "").lower() == "emotion":
            try:
                return MMI_CODES.get(int(attributes.get("value", "")))
            except ValueError:
                return None
    return None


def _mmi_view(session_xml: Path) -> int | None:
    """The camera view of a session from its `session.xml` (`<track view="...">`: 0 frontal, 1 profile, 2 both
    side by side, as the release codes it), or None when the file is absent or says nothing."""
    if not session_xml.is_file():
        return None
    for element in ET.parse(session_xml).getroot().iter():
        view = {k.lower(): v for k, v in element.attrib.items()}.get("view")
        if element.tag.rsplit("}", 1)[-1].lower() == "track" and view is not None and view.strip().isdigit():
            return int(view)
    return None


def _video_length(path: Path) -> int:
    """Frames in a video as OpenCV reads it: 0 when the file is empty or this OpenCV build cannot decode it."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return 0
        length = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        ok, _ = capture.read()  # a header can claim frames that do not decode
        return length if ok else 0
    finally:
        capture.release()


def load_mmi(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """MMI: `Sessions/{n}/S001-001.avi` (or stills) with `S001-001.xml` beside it holding the emotion code.

    Expressions go onset-apex-offset, so the apex is near the middle of a video. options:
    `apex_frames` (default 1: the n frames around the middle), `dual_view` (sessions whose frames show two
    views side by side, as {session: 'left' | 'right'}, the half to keep), `rotate` (sessions recorded
    turned, as {session: degrees counter-clockwise to undo it}), `views` (default [0, 2]: the camera views
    of `session.xml` kept, 0 frontal, 2 dual view; 1, profile, is left out). Stills (.jpg) are taken as they
    are. `session.xml` and the action-unit files (`*-oao_aucs.xml`) beside them are read for the view only.
    An annotation that does not parse and a video without a readable frame are rejected, with their reason.
    """
    opts = resolve_options("mmi", options)
    apex = opts["apex_frames"]
    dual = {str(k): v for k, v in opts["dual_view"].items()}
    rotate = {str(k): int(v) for k, v in opts["rotate"].items()}
    views = set(opts["views"])
    rows = []
    for xml_path in _files(root, "Sessions/*/*.xml"):
        if xml_path.name == "session.xml" or xml_path.stem.endswith("-oao_aucs"):  # session facts; action-unit timing
            continue
        session = xml_path.parent.name
        subject = f"{name}/{xml_path.stem.split('-')[0]}"
        try:
            emotion = _mmi_emotion(xml_path)
            view = _mmi_view(xml_path.parent / "session.xml")
        except ET.ParseError as exc:
            rows.append(_rejected(xml_path, f"unreadable annotation: XML ParseError: {exc}", subject, name))
            continue
        if view is not None and view not in views:  # a profile camera, unless options.views asks for it
            continue
        media = [
            p
            for p in _files(xml_path.parent, xml_path.stem + ".*")
            if p.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES
        ]
        if emotion is None or not media:
            continue
        path = media[0]
        if path.suffix.lower() in VIDEO_SUFFIXES:
            length = _video_length(path)
            if length <= 0:
                rows.append(
                    _rejected(
                        path,
                        "unreadable video: no frame decodes (empty, damaged, or a codec this OpenCV build lacks)",
                        subject,
                        name,
                    )
                )
                continue
            start = max(0, length // 2 - apex // 2)
            frames = list(range(start, min(length, start + apex)))
        else:
            frames = [0]
        for frame in frames:
            rows.append(
                {
                    "path": str(path),
                    "subject": subject,
                    "emotion": emotion,
                    "source": name,
                    "frame": frame,
                    "intensity": np.nan,
                    "crop": dual.get(session, ""),
                    "rotate": rotate.get(session, 0),
                }
            )
    return _table(rows, ("crop", "rotate"))


CKPLUS_CODES = {0: "neutral", 1: "anger", 2: None, 3: "disgust", 4: "fear", 5: "happiness", 6: "sadness", 7: "surprise"}


def load_ckplus(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """CK+: `cohn-kanade-images/S005/001/*.png` with labels in `Emotion/S005/001/*_emotion.txt`.

    Only labelled sequences are used. options: `apex_frames` (default 1): the last n frames of a sequence
    carry its emotion (the labelled frame is the last, the peak); `neutral_first_frame` (default false):
    also take the first frame of each labelled sequence as neutral.
    """
    opts = resolve_options("ckplus", options)
    apex, neutral_first = opts["apex_frames"], opts["neutral_first_frame"]
    images, labels = root / "cohn-kanade-images", root / "Emotion"
    rows = []
    for label_file in _files(labels, "*/*/*_emotion.txt"):
        subject, sequence = label_file.parent.parent.name, label_file.parent.name
        try:
            code = int(round(float(label_file.read_text(errors="replace").split()[0])))
        except (ValueError, IndexError):
            rows.append(
                _rejected(label_file, "unreadable label file: expected one number 0-7", f"{name}/{subject}", name)
            )
            continue
        frames = _image_files(images / subject / sequence, name) if (images / subject / sequence).is_dir() else []
        if not frames:
            continue
        picks = [(f, CKPLUS_CODES.get(code)) for f in frames[-apex:]]
        if neutral_first and len(frames) > apex:
            picks.append((frames[0], "neutral"))
        for frame, emotion in picks:
            rows.append(
                {
                    "path": str(frame),
                    "subject": f"{name}/{subject}",
                    "emotion": emotion,
                    "source": name,
                    "frame": frames.index(frame),
                    "intensity": np.nan,
                }
            )
    return _table(rows)


AFFECTNET_CODES = {0: "neutral", 1: "happiness", 2: "sadness", 3: "surprise", 4: "fear", 5: "disgust", 6: "anger"}


def load_affectnet(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """AffectNet: `Manually_Annotated_Images/` + `training.csv` / `validation.csv` with 68 landmarks.

    Eye centres come from the landmarks (points 36-41 and 42-47), so no detector is needed. In the wild:
    every image is its own identity. options: `csv` (default ['training.csv', 'validation.csv']).
    A row is decided by its label first: contempt, none, uncertain and no-face rows are dropped whatever else
    they hold; a kept row whose landmarks are missing or malformed is rejected with its file and row number.
    """
    rows = []
    for csv_name in resolve_options("affectnet", options)["csv"]:
        csv_path = root / csv_name
        if not csv_path.is_file():
            found = ", ".join(p.name for p in _files(root, "*.csv")) or "none"
            raise FileNotFoundError(
                f"dataset {name!r}: {csv_path} not found (datasets.{name}.options.csv lists {csv_name}); "
                f"csv files in {root}: {found}"
            )
        table = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        missing = [c for c in ("subDirectory_filePath", "facial_landmarks", "expression") if c not in table.columns]
        if missing:
            raise ValueError(
                f"dataset {name!r}: {csv_path} has no {', '.join(missing)} column (it has {', '.join(table.columns)})"
            )
        for row, rec in enumerate(
            table.itertuples(index=False), start=2
        ):  # row 1 is the header, as a spreadsheet counts
            path, subject = (
                root / "Manually_Annotated_Images" / rec.subDirectory_filePath,
                f"{name}/{rec.subDirectory_filePath}",
            )
            code = rec.expression.strip()
            if not code.isdigit():
                rows.append(
                    _rejected(
                        path,
                        f"malformed row {row} of {csv_name}: expression {code!r} is not a code 0-10",
                        subject,
                        name,
                    )
                )
                continue
            emotion = AFFECTNET_CODES.get(int(code))
            if emotion is None:
                continue
            try:
                points = np.array([float(v) for v in rec.facial_landmarks.split(";") if v.strip()]).reshape(-1, 2)
            except ValueError:
                points = np.zeros((0, 2))
            if len(points) < 48:
                rows.append(
                    _rejected(
                        path,
                        f"malformed row {row} of {csv_name}: facial_landmarks holds {len(points)} points, not 68",
                        subject,
                        name,
                    )
                )
                continue
            left, right = points[36:42].mean(0), points[42:48].mean(0)
            rows.append(
                {
                    "path": str(path),
                    "subject": subject,
                    "emotion": emotion,
                    "source": name,
                    "frame": 0,
                    "intensity": np.nan,
                    "left_eye_x": left[0],
                    "left_eye_y": left[1],
                    "right_eye_x": right[0],
                    "right_eye_y": right[1],
                }
            )
    return _table(rows)


FER2013_CODES = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "sadness", 5: "surprise", 6: "neutral"}
FER2013_USAGES = ("Training", "PublicTest", "PrivateTest")
FER2013_FOLDERS = {"train": "Training", "test": "PrivateTest"}


def _fer2013_csv(root: Path) -> Path | None:
    if root.is_file():
        return root
    found = _files(root, "**/fer2013.csv") or _files(root, "*.csv")
    return found[0] if found else None


def load_fer2013(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """FER2013: `fer2013.csv` (emotion 0-6, 48x48 `pixels` as text, `Usage`), or `train|test/{class}/*.jpg`.

    The faces are already cropped and roughly aligned, so records are marked `aligned` and only resized:
    no detector runs. From the CSV, the pixels travel in the record (`pixels`, uint8 48x48) and `path` is
    `fer2013.csv#row`. FER2013 has no identities: every image is its own subject, so splits cannot be
    shown subject-disjoint (state this when reporting). options: `usage` (default all of Training,
    PublicTest, PrivateTest; the folder release calls them train = Training, test = PrivateTest).
    """
    usages = set(resolve_options("fer2013", options)["usage"])
    unknown = usages - set(FER2013_USAGES)
    if unknown:
        raise ValueError(
            f"dataset {name!r}: options.usage {sorted(unknown)} unknown; allowed: {', '.join(FER2013_USAGES)}"
        )
    csv_path = _fer2013_csv(root)
    rows = _fer2013_csv_rows(csv_path, name, usages, "usage" in options) if csv_path is not None else []
    if csv_path is None:
        for folder, usage in FER2013_FOLDERS.items():
            if usage not in usages or not (root / folder).is_dir():
                continue
            for class_dir in _dirs(root / folder):
                for path in _image_files(class_dir, name):
                    rows.append(
                        {
                            "path": str(path),
                            "subject": f"{name}/{folder}/{class_dir.name}/{path.stem}",
                            "emotion": CLASS_SYNONYMS.get(class_dir.name.lower()),
                            "source": name,
                            "frame": 0,
                            "intensity": np.nan,
                            "aligned": True,
                            "pixels": None,
                        }
                    )
    table = pd.DataFrame(rows, columns=[*RECORD_COLUMNS, *EYE_COLUMNS, "aligned", "pixels", REJECT_COLUMN])
    return table[table["emotion"].notna() | table[REJECT_COLUMN].notna()].reset_index(drop=True)


FER2013_COLUMNS = ("emotion", "pixels")


def _fer2013_csv_rows(csv_path: Path, name: str, usages: set[str], usage_given: bool) -> list[dict[str, Any]]:
    """One record per row of the CSV, its row number in `path`; a row is decided by its label first: a code
    that is no class is a reject (it cannot be placed), a kept row with damaged pixels is rejected later."""
    header = pd.read_csv(csv_path, nrows=0, encoding="utf-8-sig").columns
    missing = [c for c in FER2013_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"dataset {name!r}: {csv_path} has no {', '.join(missing)} column (it has {', '.join(map(str, header)) or 'none'}); "
            f"the FER2013 csv needs {', '.join(FER2013_COLUMNS)} and, to pick a usage, Usage"
        )
    if "Usage" not in header and usage_given:
        raise ValueError(
            f"dataset {name!r}: options.usage is set, but {csv_path} has no Usage column to pick rows by (it has {', '.join(map(str, header))})"
        )
    rows, offset = [], 0
    for chunk in pd.read_csv(csv_path, chunksize=4096, dtype=str, keep_default_na=False, encoding="utf-8-sig"):
        usage_column = chunk["Usage"] if "Usage" in chunk else pd.Series("", index=chunk.index)
        for i, (code, pixels, usage) in enumerate(zip(chunk["emotion"], chunk["pixels"], usage_column), start=offset):
            if "Usage" in chunk and usage not in usages:
                continue
            row = {
                "path": f"{csv_path}#{i}",
                "subject": f"{name}/{i}",
                "source": name,
                "frame": 0,
                "intensity": np.nan,
                "aligned": True,
            }
            label = FER2013_CODES.get(int(code)) if code.strip().isdigit() else None
            if label is None:
                rows.append(
                    {
                        **row,
                        "emotion": None,
                        "pixels": None,
                        REJECT_COLUMN: f"malformed row: emotion code {code.strip()!r} is not one of {', '.join(map(str, FER2013_CODES))}",
                    }
                )
                continue
            rows.append({**row, "emotion": label, "pixels": _fer2013_pixels(pixels), REJECT_COLUMN: None})
        offset += len(chunk)
    return rows


def _fer2013_pixels(text: str) -> np.ndarray | None:
    """48x48 uint8 from the CSV's space-separated pixels; None when the row is damaged (it is then rejected)."""
    try:
        values = np.array(text.split(), dtype=np.int64) if isinstance(text, str) else np.zeros(0)
    except ValueError:  # a value that is not a whole number
        return None
    side = int(round(np.sqrt(len(values))))
    if len(values) == 0 or side * side != len(values) or values.min() < 0 or values.max() > 255:
        return None
    return values.astype(np.uint8).reshape(side, side)


def load_folder(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """Any dataset as `root/{class}/*.png`: class folders named like the classes (angry, happy, ...).

    options: `subject_regex`, a regular expression whose first group pulls the subject out of the file
    name (default: none, every image its own identity, which forbids no split but proves no disjointness).
    """
    pattern = resolve_options("folder", options)["subject_regex"]
    regex = re.compile(pattern) if pattern else None
    rows = []
    for folder in _dirs(root):
        emotion = CLASS_SYNONYMS.get(folder.name.lower())
        for path in _image_files(folder, name):
            if regex is not None:
                m = regex.search(path.name)
                if not m:
                    raise ValueError(f"dataset {name!r}: subject_regex {regex.pattern!r} does not match {path.name!r}")
                subject = m.group(1)
            else:
                subject = f"{folder.name}/{path.stem}"
            rows.append(
                {
                    "path": str(path),
                    "subject": f"{name}/{subject}",
                    "emotion": emotion,
                    "source": name,
                    "frame": 0,
                    "intensity": np.nan,
                }
            )
    return _table(rows)
