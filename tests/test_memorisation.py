"""Memorisation: a generated set that copies training faces is found, one that does not is not."""

from __future__ import annotations

import numpy as np

from synthfer.memorisation import closest_pairs, memorisation, nearest
from synthfer.quality import eigenface_rows


def _faces(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 16, 16), dtype=np.uint8)


def test_copies_of_training_faces_are_near_copies_and_new_faces_are_not():
    rng = np.random.default_rng(0)
    training, subjects = _faces(rng, 300), np.arange(300).astype(str)
    copies = training[:20].copy()
    copies[:, 0, 0] ^= 1  # one grey level off: still a copy
    new = _faces(rng, 20)
    metrics, distances, indices = memorisation(np.concatenate([copies, new]), training, subjects)
    # the 20 copies; a new face drawn like the training faces falls below the 1% quantile about 1% of the time
    assert (distances[:20] < metrics["near_copy_threshold"]).all()
    assert 0.5 <= metrics["near_copy_share"] <= 0.55
    assert list(indices[:20]) == list(range(20)) and (distances[:20] < metrics["near_copy_threshold"]).all()
    pairs = closest_pairs(distances, indices, n=3)
    assert [p[1] for p in pairs] == [p[0] for p in pairs] and pairs[0][2] <= pairs[1][2] <= pairs[2][2]


def test_a_persons_own_faces_are_not_their_reference_neighbours():
    rng = np.random.default_rng(1)
    base = _faces(rng, 10)
    training = np.concatenate([base, base])  # each subject photographed twice, identically
    subjects = np.tile(np.arange(10).astype(str), 2)
    d, i = nearest(training, training, exclude=(np.tile(np.arange(10), 2), np.tile(np.arange(10), 2)))
    assert (d > 0).all() and (i % 10 != np.arange(20) % 10).all()
    metrics, _, _ = memorisation(base, training, subjects)
    assert metrics["real_nearest_distance"] > 0 and metrics["near_copy_share"] == 1.0


def test_eigenface_metrics_tell_a_shifted_set_from_the_real_one():
    rng = np.random.default_rng(2)
    real = rng.normal(128, 30, (400, 16, 16)).clip(0, 255).astype(np.uint8)
    emotions = np.array(["happiness", "sadness"] * 200)
    alike = eigenface_rows(real[:200], real[200:300], emotions[200:300], real[300:], emotions[300:])
    shifted = eigenface_rows(real[:200], real[200:300], emotions[200:300], (real[300:] // 2), emotions[300:])
    by_name = lambda rows: {r["metric"]: r["value"] for r in rows}  # noqa: E731
    a, b = by_name(alike), by_name(shifted)
    assert {"kid_eigenfaces", "precision_eigenfaces", "frechet_distance_eigenfaces"} <= set(a)
    assert (
        b["kid_eigenfaces"] > 10 * abs(a["kid_eigenfaces"])
        and b["frechet_distance_eigenfaces"] > a["frechet_distance_eigenfaces"]
    )
