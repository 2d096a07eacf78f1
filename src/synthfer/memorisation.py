"""Does a GAN copy its training faces? Each generated face's nearest GAN-training face, against how close real
faces come to each other.

Distances are Euclidean between the aligned grey faces scaled to [0, 1] (the same preprocessing every face
had): a copy is a copy in pixels, whatever a feature network makes of it. The reference is the GAN-training
faces' own nearest-neighbour distances (each face to its nearest other face of another subject: a person's two
photos are not copies of each other): a generated face closer to a training face than all but `NEAR_COPY_QUANTILE`
of those is a near-copy. The closest pairs are drawn for a reader to judge (closest_pairs_figure).
"""

from __future__ import annotations

import numpy as np
import torch

NEAR_COPY_QUANTILE = 0.01
"""A generated face nearer to a training face than this quantile of the real faces' nearest-neighbour distances
counts as a near-copy."""
REFERENCE_FACES = 2000
"""GAN-training faces whose nearest other-subject neighbour sets the reference distances (a random sample: the
full n x n search is quadratic)."""


def _flat(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).reshape(len(images), -1).float() / 255.0


def nearest(
    queries: np.ndarray, pool: np.ndarray, exclude: tuple[np.ndarray, np.ndarray] | None = None, chunk: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Each query face's nearest pool face: (distance, index). `exclude`: (query groups, pool groups); a pool face
    of the query's own group (its subject) is never its neighbour."""
    q_all, p = _flat(queries), _flat(pool)
    distances, indices = [], []
    for start in range(0, len(q_all), chunk):
        d = torch.cdist(q_all[start : start + chunk], p)
        if exclude is not None:
            same = exclude[0][start : start + chunk, None] == exclude[1][None, :]
            d[torch.from_numpy(same)] = float("inf")
        best = d.min(dim=1)
        distances.append(best.values.numpy())
        indices.append(best.indices.numpy())
    return np.concatenate(distances), np.concatenate(indices)


def memorisation(
    generated: np.ndarray, training: np.ndarray, training_subjects: np.ndarray, seed: int = 0
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Memorisation metrics (quality.csv rows' names and values), and each generated face's nearest training
    face: (metrics, distances, indices)."""
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(training), min(REFERENCE_FACES, len(training)), replace=False)
    subjects = np.unique(training_subjects, return_inverse=True)[1]
    reference, _ = nearest(training[sample], training, exclude=(subjects[sample], subjects))
    threshold = float(np.quantile(reference[np.isfinite(reference)], NEAR_COPY_QUANTILE))
    distances, indices = nearest(generated, training)
    metrics = {
        "nearest_training_distance": float(np.median(distances)),
        "real_nearest_distance": float(np.median(reference[np.isfinite(reference)])),
        "near_copy_threshold": threshold,
        "near_copy_share": float(np.mean(distances < threshold)),
    }
    return metrics, distances, indices


def closest_pairs(distances: np.ndarray, indices: np.ndarray, n: int = 8) -> list[tuple[int, int, float]]:
    """The n generated faces nearest to a training face: (generated index, training index, distance), nearest
    first."""
    order = np.argsort(distances, kind="stable")[:n]
    return [(int(i), int(indices[i]), float(distances[i])) for i in order]
