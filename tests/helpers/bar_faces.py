"""Faces a classifier can learn in a few epochs: each class a bright bar at its own height on a noisy ground."""

from __future__ import annotations

import numpy as np

from synthfer.labels import EMOTIONS


def bar_faces(
    n: int = 240, size: int = 32, seed: int = 0, ground: int = 60, bar: int = 230, wrong_labels: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 faces (n, size, size), labels); a share `wrong_labels` of the labels redrawn at random, for a
    validation loss that wobbles instead of falling steadily."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(EMOTIONS), n)
    x = rng.integers(0, ground, (n, size, size)).astype(np.uint8)
    for i, label in enumerate(y):
        x[i, 4 + 4 * label : 7 + 4 * label, 4:-4] = bar
    if wrong_labels:
        wrong = rng.random(n) < wrong_labels
        y[wrong] = rng.integers(0, len(EMOTIONS), wrong.sum())
    return x, y
