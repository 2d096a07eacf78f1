"""Which BlazeFace model finds the eyes better, by how much of the image the face fills: the evidence for
`synthfer.data.detect.CLOSE_UP` (the box share from which the short-range model's face is taken).

usage: python scripts/detector_closeup.py [--out docs/detector.md] [--shifts 8]

Truth: the iris centres of mediapipe's FaceMesh (refine_landmarks, landmarks 468 and 473) in the two real photos
that ship with our dependencies (tests/photos.py), at their full resolution, where the face is large and sharp.
Each photo is cropped so that its face box fills a given share of the side (shifted at random, `--shifts` crops
per share) and resized to 256 px; the true eyes go through the same crop and scale. For each share: how often each
model finds the face, its median and 90th-percentile eye error (in inter-ocular distances), and the same for the
rule `FaceDetector.detect` applies. Writes a Markdown table (the page the docs link) and prints it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from photos import crop_filled, iris_centres  # noqa: E402 - the test photos, their crops and eyes

from synthfer.data.detect import CLOSE_UP, FaceDetector  # noqa: E402
from synthfer.io import atomic_write_text  # noqa: E402

FILLS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0)


def error(found: np.ndarray | None, truth: np.ndarray) -> float:
    if found is None:
        return np.nan
    return float(np.linalg.norm(found - truth, axis=1).mean() / np.linalg.norm(truth[1] - truth[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "detector.md")
    parser.add_argument("--shifts", type=int, default=8)
    args = parser.parse_args()
    detector = FaceDetector()
    rng = np.random.default_rng(0)
    rows = []
    for fill in FILLS:
        errors = {"full": [], "short": [], "rule": []}
        sides = []
        for name in ("astronaut", "hopper"):
            truth_photo = iris_centres(name)
            for _ in range(args.shifts):
                image, (dx, dy, scale) = crop_filled(
                    name, fill, rng.uniform(-0.08, 0.08, 2) * min(1.0, 1.0 / fill - 0.9)
                )
                truth = (truth_photo - [dx, dy]) * scale
                for model, key in ((detector._full_range, "full"), (detector._short_range, "short")):
                    face, side = detector._main_face(model, image)
                    if key == "short" and not isinstance(face, str):
                        sides.append(side)
                    errors[key].append(
                        error(np.array([face.left_eye, face.right_eye]) if not isinstance(face, str) else None, truth)
                    )
                face = detector.detect(image)
                errors["rule"].append(
                    error(np.array([face.left_eye, face.right_eye]) if not isinstance(face, str) else None, truth)
                )
        row = {"fill": fill, "box": float(np.median(sides)) if sides else np.nan}
        for key, values in errors.items():
            values = np.array(values)
            found = values[~np.isnan(values)]
            row[key] = (len(found) / len(values), *(np.percentile(found, [50, 90]) if len(found) else (np.nan, np.nan)))
        rows.append(row)
    lines = [
        "# Face detection: which model, from which face size",
        "",
        "Measured by `python scripts/detector_closeup.py` (the two real photos of tests/photos.py, "
        f"{args.shifts} shifted crops of each per share, 256 px; truth: FaceMesh's iris centres in the full photos). "
        "Per share of the image side the face box fills: how often each BlazeFace model finds the face, and its "
        "median / 90th-percentile eye error in inter-ocular distances; `rule` is what `FaceDetector.detect` returns "
        f"(the short-range face from a box of {CLOSE_UP} of the side, the full-range one below).",
        "",
        "| face box / side | short-range box / side | full-range: found, median, p90 | short-range: found, median, p90 "
        "| rule: found, median, p90 |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [f"{100 * r[0]:.0f}%, {r[1]:.3f}, {r[2]:.3f}" for r in (row["full"], row["short"], row["rule"])]
        lines.append(f"| {row['fill']:.2f} | {row['box']:.2f} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    atomic_write_text(text, args.out)
    print(text)


if __name__ == "__main__":
    main()
