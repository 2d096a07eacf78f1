"""The embedded demo: several 'databases' rendered by the face renderer, written to disk like real data.

Each database draws its subjects from its own population and its images under its own imaging
conditions, so that testing across databases shows a real domain gap. The files written here are read
back by the ordinary `demo` loader; nothing downstream knows the faces were rendered.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthfer.data.render import (
    IdentityPrior,
    ImagingPrior,
    expression_units,
    render_face,
    sample_identity,
    sample_nuisance,
)
from synthfer.io import atomic_write_csv
from synthfer.labels import DOMAINS

IMAGING_PRESETS: dict[str, ImagingPrior] = {
    # posed, frontal, controlled light (RaFD-like)
    "studio": ImagingPrior(),
    # lab sequences, darker and noisier (Oulu-CASIA-like)
    "lab": ImagingPrior(
        angle=5.0,
        light_strength=(0.05, 0.25),
        contrast=(0.7, 1.0),
        brightness=(-35.0, 0.0),
        blur=(0.2, 0.6),
        noise=(2.0, 6.0),
        backgrounds=("plain", "gradient"),
    ),
    # in the wild (AffectNet-like): pose, clutter, blur
    "wild": ImagingPrior(
        angle=15.0,
        scale=(0.85, 1.15),
        shift=0.06,
        light_strength=(0.0, 0.4),
        contrast=(0.6, 1.3),
        brightness=(-40.0, 40.0),
        blur=(0.0, 1.2),
        noise=(0.0, 8.0),
        backgrounds=("plain", "gradient", "clutter"),
    ),
    # video stills (MMI-like): head motion, soft focus, side light
    "video": ImagingPrior(
        angle=10.0,
        scale=(0.9, 1.1),
        shift=0.04,
        light_strength=(0.15, 0.45),
        contrast=(0.75, 1.1),
        brightness=(-20.0, 25.0),
        blur=(0.5, 1.1),
        noise=(3.0, 7.0),
        backgrounds=("gradient", "clutter"),
    ),
    # grey lab frames (CK+-like): often grayscale, strong contrast
    "gray_lab": ImagingPrior(
        angle=4.0,
        light_strength=(0.05, 0.2),
        contrast=(1.0, 1.4),
        brightness=(-15.0, 15.0),
        blur=(0.0, 0.5),
        noise=(1.0, 4.0),
        backgrounds=("plain", "gradient"),
        p_grayscale=0.7,
    ),
}

POPULATION_PRESETS: dict[str, IdentityPrior] = {
    "broad": IdentityPrior(),
    "light": IdentityPrior(skin_range=(0.0, 0.45), p_glasses=0.1, p_beard=0.1),
    "dark": IdentityPrior(skin_range=(0.4, 1.0), elongation_range=(1.1, 1.3), p_beard=0.25),
    "older": IdentityPrior(
        elongation_range=(1.25, 1.45),
        p_glasses=0.45,
        p_beard=0.35,
        p_bald=0.3,
        hair_dark_range=(0.0, 0.5),
        resting_strength=0.3,
    ),
}


@dataclass(frozen=True)
class DemoDatabase:
    """How one demo database is drawn; built from the `demo:` block of a dataset in config.yaml."""

    seed: int
    subjects: int
    images_per_emotion: int = 1
    in_the_wild: bool = False
    intensity: tuple[float, float] = (0.6, 1.0)
    imaging: str = "studio"
    population: str = "broad"
    emotions: tuple[str, ...] = DOMAINS
    image_size: int = 128

    def __post_init__(self) -> None:
        if self.imaging not in IMAGING_PRESETS:
            raise ValueError(f"demo imaging {self.imaging!r} unknown; allowed: {', '.join(IMAGING_PRESETS)}")
        if self.population not in POPULATION_PRESETS:
            raise ValueError(f"demo population {self.population!r} unknown; allowed: {', '.join(POPULATION_PRESETS)}")


def _plan(db: DemoDatabase) -> list[tuple[int, str, int]]:
    """(subject index, emotion, repetition) of every image. In-the-wild: every image its own identity."""
    if db.in_the_wild:
        return [(s, e, 0) for s in range(db.subjects) for e in [db.emotions[s % len(db.emotions)]]]
    return [(s, e, r) for s in range(db.subjects) for e in db.emotions for r in range(db.images_per_emotion)]


def _render_one(args: tuple[DemoDatabase, int, str, int, str]) -> dict[str, object]:
    db, subject, emotion, rep, image_dir = args
    identity = sample_identity(np.random.default_rng([db.seed, subject]), POPULATION_PRESETS[db.population])
    rng = np.random.default_rng([db.seed, subject, DOMAINS.index(emotion), rep, 1])
    intensity = float(rng.uniform(*db.intensity)) if emotion != "neutral" else 0.0
    units = expression_units(emotion, intensity, rng)
    nuisance = sample_nuisance(rng, IMAGING_PRESETS[db.imaging])
    image, eyes = render_face(identity, units, nuisance, db.image_size)
    name = f"s{subject:04d}_{emotion}_{rep:02d}.png"
    image.save(Path(image_dir) / name)
    return {
        "file": f"images/{name}",
        "subject": f"s{subject:04d}",
        "emotion": emotion,
        "intensity": round(intensity, 4),
        "left_eye_x": round(float(eyes[0, 0]), 2),
        "left_eye_y": round(float(eyes[0, 1]), 2),
        "right_eye_x": round(float(eyes[1, 0]), 2),
        "right_eye_y": round(float(eyes[1, 1]), 2),
    }


def write_demo_database(db: DemoDatabase, out_dir: str | os.PathLike, threads: int = 1) -> pd.DataFrame:
    """Render a database to `out_dir/images/*.png` plus `out_dir/annotations.csv`; returns the annotations.

    The annotation file is written last and atomically, so a folder without it is an unfinished render.
    """
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    jobs = [(db, s, e, r, str(out / "images")) for s, e, r in _plan(db)]
    if threads > 1:
        with ProcessPoolExecutor(threads) as pool:
            rows = list(pool.map(_render_one, jobs, chunksize=32))
    else:
        rows = [_render_one(j) for j in jobs]
    table = pd.DataFrame(rows)
    atomic_write_csv(table, out / "annotations.csv")
    return table
