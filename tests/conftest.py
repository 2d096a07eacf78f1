"""Shared fixtures: small rendered databases and face sets, made once per test session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthfer.data.demo import DemoDatabase, write_demo_database
from synthfer.data.store import FaceSet

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> tuple[DemoDatabase, object]:
    db = DemoDatabase(seed=7, subjects=4, images_per_emotion=1, imaging="studio", image_size=64)
    out = tmp_path_factory.mktemp("demo") / "small_db"
    write_demo_database(db, out, threads=1)
    return db, out


def make_real_faces(n_subjects: int = 10, size: int = 32, seed: int = 0) -> FaceSet:
    """A real-like face set: every subject with all 7 domains, split column filled by subject index."""
    from synthfer.labels import DOMAINS

    rng = np.random.default_rng(seed)
    rows, images = [], []
    for s in range(n_subjects):
        split = "train" if s < n_subjects - 4 else ("val" if s < n_subjects - 2 else "test")
        for e in DOMAINS:
            rows.append(
                {
                    "subject": f"real/s{s:03d}",
                    "emotion": e,
                    "source": "real",
                    "frame": 0,
                    "intensity": 1.0,
                    "split": split,
                }
            )
            images.append(rng.integers(0, 256, (size, size), dtype=np.uint8))
    return FaceSet(np.stack(images), pd.DataFrame(rows))


SLOW_FILES_FIRST = ("test_slurm.py", "test_workflow.py", "test_real_data.py", "test_resume.py")
"""`make test` runs two workers, a file each: the longest files start first (the SLURM test mostly waits on the
scheduler), so that no long file is left to run alone at the end."""


def pytest_collection_modifyitems(items: list) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES_FIRST)))  # stable: a file keeps its order
