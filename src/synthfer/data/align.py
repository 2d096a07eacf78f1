"""Face alignment: eyes level at fixed positions, then grayscale at the training size.

Train and test faces of every dataset go through this one function, so preprocessing cannot differ
between them.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def eye_alignment_matrix(
    left_eye: np.ndarray, right_eye: np.ndarray, size: int, eye_distance: float, eye_height: float
) -> np.ndarray:
    """2x3 similarity transform taking the two eye centres to fixed points of a `size` x `size` crop.

    `eye_distance` is the inter-ocular distance as a fraction of the crop width (smaller = larger
    margin around the face); `eye_height` is the eye line's height as a fraction from the top.
    """
    left_eye = np.asarray(left_eye, dtype=np.float64)
    right_eye = np.asarray(right_eye, dtype=np.float64)
    delta = right_eye - left_eye
    dist = float(np.hypot(*delta))
    if dist < 1e-6:
        raise ValueError("eye centres coincide")
    scale = eye_distance * size / dist
    angle = np.arctan2(delta[1], delta[0])
    cos, sin = scale * np.cos(-angle), scale * np.sin(-angle)
    rot = np.array([[cos, -sin], [sin, cos]])
    centre = (left_eye + right_eye) / 2
    target = np.array([size / 2, eye_height * size])
    return np.hstack([rot, (target - rot @ centre)[:, None]])


def align_face(
    image: Image.Image,
    left_eye: np.ndarray,
    right_eye: np.ndarray,
    size: int,
    eye_distance: float = 0.38,
    eye_height: float = 0.38,
) -> np.ndarray:
    """Crop a grayscale `size` x `size` face with the eyes level; returns uint8 (H, W)."""
    forward = np.vstack([eye_alignment_matrix(left_eye, right_eye, size, eye_distance, eye_height), [0, 0, 1]])
    inverse = np.linalg.inv(forward)[:2]
    gray = image.convert("L")
    # resample from the full-resolution image in two steps to avoid aliasing when shrinking a lot
    oversample = 4
    up = np.diag([1 / oversample, 1 / oversample, 1.0])
    coeffs = (inverse @ up).flatten()
    big = gray.transform(
        (size * oversample, size * oversample),
        Image.Transform.AFFINE,
        tuple(coeffs),
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(big.resize((size, size), Image.Resampling.BOX), dtype=np.uint8)


def resize_face(image: Image.Image, size: int) -> np.ndarray:
    """A face the dataset already crops and aligns (FER2013): grayscale, resized to `size`; uint8 (H, W)."""
    gray = image.convert("L")
    if gray.size != (size, size):
        gray = gray.resize((size, size), Image.Resampling.BICUBIC if size > gray.width else Image.Resampling.BOX)
    return np.asarray(gray, dtype=np.uint8)
