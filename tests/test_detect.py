"""The detector's rule for close-ups, checked against landmark truth on real photos (scripts/detector_closeup.py
measures the whole range; docs/detector.md)."""

from __future__ import annotations

import numpy as np
from photos import crop_filled, iris_centres

from synthfer.data.detect import CLOSE_UP, FaceDetector


def _error(face, truth: np.ndarray) -> float:
    assert not isinstance(face, str), face
    found = np.array([face.left_eye, face.right_eye])
    return float(np.linalg.norm(found - truth, axis=1).mean() / np.linalg.norm(truth[1] - truth[0]))


def test_faces_of_a_third_of_the_frame_take_the_eyes_of_the_model_that_finds_them_better():
    """JAFFE's and Oulu's full frames hold faces of 0.36-0.56 of the side. There the short-range model's eyes are
    closer to FaceMesh's iris centres than the full-range model's, and the rule must take them; far from the
    camera (0.2 of the side) the full-range model's are the better ones, and the rule keeps those."""
    detector = FaceDetector()
    rng = np.random.default_rng(0)
    near, far = [], []
    for name in ("astronaut", "hopper"):
        truth = iris_centres(name)
        for fill, errors in ((0.38, near), (0.2, far)):
            for _ in range(4):
                image, (dx, dy, scale) = crop_filled(name, fill, rng.uniform(-0.05, 0.05, 2))
                eyes = (truth - [dx, dy]) * scale
                full, _ = detector._main_face(detector._full_range, image)
                short, _ = detector._main_face(detector._short_range, image)
                errors.append((_error(detector.detect(image), eyes), _error(full, eyes), _error(short, eyes)))
    near, far = np.array(near), np.array(far)
    assert CLOSE_UP < 0.38
    assert near[:, 2].mean() < near[:, 1].mean()  # at 0.38 of the side the short-range model is the better one
    np.testing.assert_allclose(near[:, 0], near[:, 2])  # and the rule takes its eyes
    assert far[:, 1].mean() < far[:, 2].mean()  # at 0.2 the full-range one is
    np.testing.assert_allclose(far[:, 0], far[:, 1])
    detector.close()
