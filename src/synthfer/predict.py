"""Classify new photos with a trained model: the same detection, alignment and scaling as its training faces.

The model file (`results/classify/<arm>/k<k>/seed<s>/model.pt`) carries its class names and the
preprocessing of its faces, so nothing is re-typed and nothing can differ from training.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from synthfer.checkpoint import load_torch
from synthfer.data.prepare import PrepareConfig, align_records
from synthfer.data.real_loaders import is_data
from synthfer.data.records import IMAGE_SUFFIXES

PathLike = str | os.PathLike


NATIVE_NOISE = re.compile(
    r"^(INFO: Created TensorFlow Lite .*|WARNING: All log messages before absl::InitializeLog\(\) is called .*"
    r"|[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*)$"
)
"""What mediapipe's native code prints on stderr when a detector starts (TensorFlow Lite's delegate notice, absl's
notice, glog lines of severity INFO or WARNING): nothing a user of `predict` can act on. Errors (E, F) pass."""


@contextlib.contextmanager
def native_noise_filtered() -> Iterator[None]:
    """Hold what native code writes to file descriptor 2 while the block runs, then pass on all but NATIVE_NOISE."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().decode(errors="replace").splitlines() if not NATIVE_NOISE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


class ModelFileError(ValueError):
    """The file is not a classifier this version can use; the message says why and what to do."""


def model_familiarity(model_path: PathLike) -> dict | None:
    """What the model file says its training faces look like to it (train.classifier.familiarity), or None for a
    file written before it did."""
    ckpt = load_torch(model_path)
    return ckpt.get("familiar") if isinstance(ckpt, dict) else None


def model_preprocessing(model_path: PathLike) -> tuple[list[str], PrepareConfig]:
    """The class names (output order) and preprocessing a classifier file carries."""
    ckpt = load_torch(model_path)
    if not isinstance(ckpt, dict) or "model" not in ckpt or "config" not in ckpt:
        raise ModelFileError(
            f"{model_path}: not a synthfer model file (expected results/classify/<arm>/k<k>/seed<s>/model.pt)"
        )
    if not ckpt.get("preprocess") or not ckpt.get("classes"):
        raise ModelFileError(
            f"{model_path}: this classifier file carries no preprocessing (written by an older synthfer); "
            "retrain it (snakemake --forcerun train_classifier) so that new photos are prepared exactly as its faces were"
        )
    return list(ckpt["classes"]), PrepareConfig(**ckpt["preprocess"])


def image_files(inputs: list[PathLike]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The images among files and folders (searched recursively, OS debris skipped), and every other file with
    the reason it is not used."""
    images, others = [], []
    for given in map(Path, inputs):
        if given.is_dir():
            candidates = sorted(p for p in given.rglob("*") if p.is_file() and is_data(p, given))
        elif given.exists():
            candidates = [given]
        else:
            others.append((given, "not found"))
            continue
        for path in candidates:
            if path.suffix.lower() in IMAGE_SUFFIXES:
                images.append(path)
            else:
                others.append(
                    (
                        path,
                        f"not an image file ({path.suffix or 'no suffix'}; images: {', '.join(sorted(IMAGE_SUFFIXES))})",
                    )
                )
    return images, others


def predict_images(
    model_path: PathLike, inputs: list[PathLike], device: str = "auto", aligned: bool = False, threads: int = 1
) -> pd.DataFrame:
    """One row per file: path, the predicted emotion and every class probability, or the reason it has none.

    `aligned`: the photos are already cropped, eye-aligned faces (as FER2013's): resized only, no detection."""
    from synthfer.runtime import pick_device
    from synthfer.train.classifier import distance_to_training, last_layer_inputs, load_classifier, predict_proba

    classes, prepare = model_preprocessing(model_path)
    familiar = model_familiarity(model_path)
    model = load_classifier(model_path, pick_device(device))
    images, others = image_files(inputs)
    results = align_records([{"path": str(p), "frame": 0, "aligned": aligned} for p in images], prepare, threads)
    faces = [face for face, _ in results if face is not None]
    proba = predict_proba(model, np.stack(faces)) if faces else np.zeros((0, len(classes)), np.float32)
    distance = np.full(len(faces), np.nan)
    if familiar and faces:
        distance = distance_to_training(last_layer_inputs(model, np.stack(faces)), familiar["bank"], familiar["k"])
    rows, done = [], 0
    for path, (face, reason) in zip(images, results, strict=True):
        row = {"path": str(path), "frame": 0, "pred": "", "reason": reason}
        if face is not None:
            row.update(
                pred=classes[int(proba[done].argmax())],
                **{f"p_{c}": float(p) for c, p in zip(classes, proba[done])},
                training_distance=float(distance[done]),
                far_from_training=bool(familiar and distance[done] > familiar["threshold"]),
            )
            done += 1
        rows.append(row)
    rows += [{"path": str(path), "frame": 0, "pred": "", "reason": reason} for path, reason in others]
    columns = ["path", "frame", "pred", *(f"p_{c}" for c in classes), "training_distance", "far_from_training"]
    table = pd.DataFrame(rows, columns=[*columns, "reason"])
    table.attrs["familiar"] = familiar
    return table
