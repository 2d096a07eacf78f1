"""From a dataset's records to a face store: aligned grayscale faces plus a face table, and the rejects.

The store is one uint8 array, so training reads it in one go instead of decoding thousands of small
files every epoch. Images that cannot be used are listed with their reason, never silently dropped.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PIL import Image, ImageOps, UnidentifiedImageError

from synthfer.data.align import align_face, resize_face
from synthfer.data.records import EYE_COLUMNS, REJECT_COLUMN, VIDEO_SUFFIXES
from synthfer.settings import PrepareConfig  # noqa: F401 - re-exported: the dataclass lives with the other settings

if TYPE_CHECKING:
    from synthfer.data.detect import FaceDetector

FACE_COLUMNS = ("subject", "emotion", "source", "frame", "intensity", "path")
REJECTED_COLUMNS = ("path", "frame", "reason")


_DETECTOR: FaceDetector | None = None


def _detector(cfg: PrepareConfig) -> FaceDetector:
    """One detector per worker process, made on first use (most datasets ship landmarks and never need it)."""
    global _DETECTOR
    if _DETECTOR is None:
        from synthfer.data.detect import FaceDetector

        _DETECTOR = FaceDetector(cfg.min_detection_confidence)
    return _DETECTOR


class TooManyRejectedError(RuntimeError):
    """More images failed than the configured threshold allows; `rejected` holds the whole list."""

    def __init__(self, message: str, rejected: pd.DataFrame) -> None:
        super().__init__(message)
        self.rejected = rejected


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit grayscale (some lab cameras and re-encoded copies) as 8-bit: PIL's own conversion
    clips them to white, and the detector then finds no face."""
    if image.mode not in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return image
    values = np.asarray(image, dtype=np.float64)
    top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
    return Image.fromarray(np.clip(values / top * 255.0, 0, 255).round().astype(np.uint8), "L")


def read_image(record: dict) -> Image.Image:
    """One record's image: pixels carried in the record, a file, or frame `frame` of a video; then the
    record's view crop and rotation."""
    path = str(record["path"])
    if "pixels" in record and "#" in path:  # a row of a pixel table (FER2013's csv)
        if not isinstance(record["pixels"], np.ndarray):
            raise OSError("damaged pixel row: expected a square of whole numbers 0-255")
        image = Image.fromarray(record["pixels"])
    elif Path(path).suffix.lower() in VIDEO_SUFFIXES:
        import cv2

        capture = cv2.VideoCapture(path)
        try:
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(record.get("frame", 0)))
            ok, bgr = capture.read()
        finally:
            capture.release()
        if not ok:
            raise OSError("cannot read the frame (an undecodable video, or one with fewer frames)")
        image = Image.fromarray(bgr[:, :, ::-1].copy())
    else:
        with Image.open(path) as img:
            img.load()
            image = _eight_bit(img.copy())
        if not all(
            np.isfinite(v) for v in (record.get(c, np.nan) for c in EYE_COLUMNS)
        ):  # no landmarks: show it as a viewer does
            image = ImageOps.exif_transpose(image)  # a phone photo stored on its side, with an EXIF Orientation tag
    crop = record.get("crop") or ""
    if crop in ("left", "right"):  # two views side by side: keep one half
        half = image.width // 2
        image = image.crop((0, 0, half, image.height) if crop == "left" else (half, 0, image.width, image.height))
    rotation = record.get("rotate") or 0
    if rotation and np.isfinite(rotation):
        image = image.rotate(float(rotation), expand=True)
    return image


def _without_path(message: str, path: str) -> str:
    """An error text without the file's path (the rejected list has it in its own column), so that the
    reasons of many files group into one."""
    for form in (f"'{path}'", f'"{path}"', path):
        message = message.replace(form, "")
    return " ".join(message.split()).replace(" :", ":").strip(" :") or "no message"


def _prepare_one(args: tuple[dict, PrepareConfig]) -> tuple[np.ndarray | None, str]:
    record, cfg = args
    listed = record.get(REJECT_COLUMN)
    if isinstance(listed, str) and listed:
        return None, listed
    try:
        image = read_image(record)
    except Image.DecompressionBombError as exc:  # not an OSError: it used to abort the whole dataset
        return (
            None,
            f"unreadable: image over PIL's decompression-bomb limit ({Image.MAX_IMAGE_PIXELS} pixels): {_without_path(str(exc), str(record['path']))}",
        )
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:  # what decoders raise on damaged files
        return None, f"unreadable: {type(exc).__name__}: {_without_path(str(exc), str(record['path']))}"
    if record.get("aligned") is True:  # the dataset ships cropped, aligned faces: only resize
        return resize_face(image, cfg.image_size), ""
    eyes = [record.get(c) for c in EYE_COLUMNS]
    if all(v is not None and np.isfinite(v) for v in eyes):
        left, right = np.array(eyes[:2], float), np.array(eyes[2:], float)
    else:  # no landmarks in the dataset: find the face
        found = _detector(cfg).detect(np.asarray(image.convert("RGB")))
        if isinstance(found, str):
            return None, found
        left, right = found.left_eye, found.right_eye
    if np.hypot(*(right - left)) < 4:
        return None, "face too small (eyes closer than 4 px)"
    try:
        return align_face(image, left, right, cfg.image_size, cfg.eye_distance, cfg.eye_height), ""
    except ValueError as exc:
        return None, f"alignment failed: {exc}"


def align_records(records: list[dict], cfg: PrepareConfig, threads: int = 1) -> list[tuple[np.ndarray | None, str]]:
    """Read, detect and align each record, in order: (face uint8 (S, S), "") or (None, the reason it is unusable).
    The one path every face takes, in training data and in `synthfer predict`."""
    jobs = [(rec, cfg) for rec in records]
    if threads > 1 and len(jobs) > 64:
        with ProcessPoolExecutor(threads) as pool:
            return list(pool.map(_prepare_one, jobs, chunksize=64))
    return [_prepare_one(j) for j in jobs]


def prepare_faces(
    records: pd.DataFrame, cfg: PrepareConfig, threads: int = 1
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Align every record; returns (images uint8 (N, H, W), face table, rejected table with reasons)."""
    results = align_records(records.to_dict("records"), cfg, threads)
    keep = [i for i, (img, _) in enumerate(results) if img is not None]
    rejected = pd.DataFrame(
        [
            {"path": records.iloc[i]["path"], "frame": records.iloc[i]["frame"], "reason": reason}
            for i, (img, reason) in enumerate(results)
            if img is None
        ],
        columns=list(REJECTED_COLUMNS),
    )
    share = len(rejected) / max(1, len(records))
    if share > cfg.max_rejected_fraction:
        reasons = "; ".join(f"{n} x {reason}" for reason, n in rejected["reason"].value_counts().head(3).items())
        raise TooManyRejectedError(
            f"{len(rejected)} of {len(records)} images rejected ({share:.0%} > preprocess.max_rejected_fraction "
            f"{cfg.max_rejected_fraction:.0%}); most common reasons: {reasons}",
            rejected,
        )
    images = (
        np.stack([results[i][0] for i in keep]) if keep else np.zeros((0, cfg.image_size, cfg.image_size), np.uint8)
    )
    faces = records.iloc[keep][list(FACE_COLUMNS)].reset_index(drop=True)
    return images, faces, rejected
