"""Face detection for images that come without landmarks: mediapipe's face detector, offline.

mediapipe 0.10.21 bundles the BlazeFace models in its wheel, so nothing is downloaded. The largest face
wins; two faces of similar size are ambiguous and the image is rejected rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detection:
    left_eye: np.ndarray  # image-left eye (the subject's right), pixels (x, y)
    right_eye: np.ndarray
    score: float
    box_area: float  # pixels


CLOSE_UP = 0.32
"""A face box at least this share of the image side is a close-up, taken from the short-range model. Measured
against FaceMesh's iris centres on crops of two real photos (scripts/detector_closeup.py, docs/detector.md): from
0.35 of the side up the short-range model's eyes are the better ones (median error 0.03-0.06 inter-ocular
distances against the full-range model's 0.04-0.10, and the full-range model misses most faces from 0.9 up); at
0.30 the two tie, and below 0.25 the full-range model's are clearly better (0.04-0.07 against 0.06-0.18). The
threshold sits between the tie and the first clear win. Two people only: the real photos our dependencies ship."""


class FaceDetector:
    """Finds the eye centres of the main face in an RGB uint8 image.

    Two BlazeFace models: the full-range one finds faces from close-ups to a few metres, but misses about
    half of the tight crops (AffectNet-HQ, Oulu-CASIA `Cropped/`: the face fills the frame) and sometimes
    puts the eyes on the wrong features there; the short-range one finds faces that fill the frame and misses
    small ones. So a face the short-range model finds as a close-up (its box at least `CLOSE_UP` of the image)
    is taken from it; otherwise the full-range model decides, and the short-range face is the fallback.
    """

    def __init__(self, min_confidence: float = 0.5, ambiguity: float = 0.8) -> None:
        import mediapipe as mp  # imported here: only jobs that detect pay for it

        self.ambiguity = ambiguity
        detection = mp.solutions.face_detection
        self._full_range = detection.FaceDetection(model_selection=1, min_detection_confidence=min_confidence)
        self._short_range = detection.FaceDetection(model_selection=0, min_detection_confidence=min_confidence)

    def _main_face(self, model, rgb: np.ndarray) -> tuple[Detection | str, float]:
        """(the largest face or the reason there is none, its box side as a share of the image side)."""
        height, width = rgb.shape[:2]
        result = model.process(rgb)
        if not result.detections:
            return "no face detected", 0.0
        found = []
        for det in result.detections:
            box = det.location_data.relative_bounding_box
            points = det.location_data.relative_keypoints
            found.append(
                (
                    Detection(
                        left_eye=np.array([points[0].x * width, points[0].y * height]),
                        right_eye=np.array([points[1].x * width, points[1].y * height]),
                        score=float(det.score[0]),
                        box_area=float(box.width * width * box.height * height),
                    ),
                    max(box.width, box.height),
                )
            )
        found.sort(key=lambda d: d[0].box_area, reverse=True)
        if len(found) > 1 and found[1][0].box_area > self.ambiguity * found[0][0].box_area:
            return f"several faces of similar size ({len(found)} detected)", 0.0
        return found[0]

    def detect(self, rgb: np.ndarray) -> Detection | str:
        """The main face, or the reason there is none ('no face detected', 'several faces ...')."""
        rgb = np.ascontiguousarray(rgb)
        close, side = self._main_face(self._short_range, rgb)
        if isinstance(close, Detection) and side >= CLOSE_UP:  # a close-up: the short-range model's domain
            return close
        face, _ = self._main_face(self._full_range, rgb)
        if isinstance(face, Detection) or not isinstance(close, Detection):
            return face
        return close

    def close(self) -> None:
        self._full_range.close()
        self._short_range.close()
