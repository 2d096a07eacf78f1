"""Real photos that ship inside our dependencies (public domain), and face crops made from them.

A face detector must fire on what these tests feed it, so the trees the tests build are made of real faces:
scikit-image's astronaut (Eileen Collins) and matplotlib's Grace Hopper. Eye centres are those the
full-range detector finds in the full photos, in their pixels (image-left eye first).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageEnhance

EYES = {"astronaut": np.array([[203.0, 103.0], [248.0, 106.0]]), "hopper": np.array([[227.0, 192.0], [306.0, 191.0]])}
FACE_BOX = {"astronaut": (174, 68, 104, 104), "hopper": (166, 128, 200, 200)}  # x, y, width, height of the face


def photo(name: str) -> Image.Image:
    if name == "astronaut":
        from skimage import data

        return Image.fromarray(data.astronaut())
    return Image.open(Path(matplotlib.__file__).parent / "mpl-data" / "sample_data" / "grace_hopper.jpg").convert("RGB")


def tight_crop(
    name: str, fill: float, shift: tuple[float, float] = (0.0, 0.0), size: int = 224, brightness: float = 1.0
) -> tuple[Image.Image, np.ndarray]:
    """A square crop in which the face box fills `fill` of the side (AffectNet-HQ, Oulu `Cropped/`), resized to
    `size`; returns it and the eye centres in its pixels."""
    x, y, w, h = FACE_BOX[name]
    side = max(w, h) / fill
    left, top = x + w / 2 + shift[0] * side - side / 2, y + h / 2 + shift[1] * side - side / 2
    crop = (
        photo(name)
        .crop((round(left), round(top), round(left + side), round(top + side)))
        .resize((size, size), Image.Resampling.BICUBIC)
    )
    if brightness != 1.0:
        crop = ImageEnhance.Brightness(crop).enhance(brightness)
    scale = size / round(side)
    return crop, (EYES[name] - [round(left), round(top)]) * scale


def tight_crops(n: int, seed: int = 0, fills: tuple[float, float] = (0.7, 1.1)) -> list[tuple[Image.Image, np.ndarray]]:
    """`n` varied tight crops of both photos: fill, position, brightness drawn per crop."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        name = ("astronaut", "hopper")[i % 2]
        out.append(
            tight_crop(name, rng.uniform(*fills), tuple(rng.uniform(-0.06, 0.06, 2)), brightness=rng.uniform(0.7, 1.3))
        )
    return out


def iris_centres(name: str) -> np.ndarray:
    """Image-left eye first: FaceMesh's iris centres in the full photo."""
    import mediapipe as mp

    image = np.asarray(photo(name))
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1) as mesh:
        points = mesh.process(image).multi_face_landmarks[0].landmark
    height, width = image.shape[:2]
    return np.array([[points[i].x * width, points[i].y * height] for i in (468, 473)])


def crop_filled(name: str, fill: float, shift: np.ndarray, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The photo cropped so that its face box is `fill` of the side (out-of-photo parts black), resized to
    `size`; and the map from photo pixels to crop pixels as (offset, scale)."""
    x, y, w, h = FACE_BOX[name]
    side = max(w, h) / fill
    left, top = x + w / 2 - side / 2 + shift[0] * side, y + h / 2 - side / 2 + shift[1] * side
    box = (round(left), round(top), round(left + side), round(top + side))
    image = photo(name).crop(box).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image), np.array([box[0], box[1], size / (box[2] - box[0])])
