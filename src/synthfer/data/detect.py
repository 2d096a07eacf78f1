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


class FaceDetector:
    """Finds the eye centres of the main face in an RGB uint8 image."""

    def __init__(self, min_confidence: float = 0.5, ambiguity: float = 0.8) -> None:
        import mediapipe as mp  # imported here: only jobs that detect pay for it

        self.ambiguity = ambiguity
        # model 1 is the full-range model: faces from close-ups to a few metres
        self._detector = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=min_confidence)

    def detect(self, rgb: np.ndarray) -> Detection | str:
        """The main face, or the reason there is none ('no face detected', 'several faces ...')."""
        height, width = rgb.shape[:2]
        result = self._detector.process(np.ascontiguousarray(rgb))
        if not result.detections:
            return "no face detected"
        found = []
        for det in result.detections:
            box = det.location_data.relative_bounding_box
            points = det.location_data.relative_keypoints
            found.append(
                Detection(
                    left_eye=np.array([points[0].x * width, points[0].y * height]),
                    right_eye=np.array([points[1].x * width, points[1].y * height]),
                    score=float(det.score[0]),
                    box_area=float(box.width * width * box.height * height),
                )
            )
        found.sort(key=lambda d: d.box_area, reverse=True)
        if len(found) > 1 and found[1].box_area > self.ambiguity * found[0].box_area:
            return f"several faces of similar size ({len(found)} detected)"
        return found[0]

    def close(self) -> None:
        self._detector.close()
