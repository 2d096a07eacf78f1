"""Quality of the generated faces, measured in the feature space of a classifier trained on real faces, and in
eigenfaces.

The features are the penultimate layer (1024 units) of the paper's CNN trained on real faces only (k = 0).
This is a domain feature space, not Inception's: its Frechet distance is comparable between translators and
runs of this workflow, not with FID values from the literature. The second space is one no network of the run
trained: the first EIGENFACES principal components of the real training faces' pixels (scikit-learn's PCA), so
that a generated set cannot look good only to the classifiers whose quirks it may share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy import linalg
from sklearn.metrics import pairwise_distances

from synthfer.labels import EMOTIONS, NEUTRAL
from synthfer.models.classifier import PaperCNN
from synthfer.tensors import to_unit


@torch.no_grad()
def penultimate_features(model: PaperCNN, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """1024-d features of uint8 faces (N, S, S): everything of the network but its last layer."""
    device = next(model.parameters()).device
    model.eval()
    head = model.classifier[:-1]
    out = []
    for i in range(0, len(images), batch_size):
        x = to_unit(torch.from_numpy(np.ascontiguousarray(images[i : i + batch_size])).unsqueeze(1).to(device))
        out.append(head(model.features(x)).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.classifier[-1].in_features), np.float32)


def covariance(features: np.ndarray, shrink: bool) -> tuple[np.ndarray, float]:
    """Sample covariance, or scikit-learn's Ledoit-Wolf shrinkage estimate (and its shrinkage intensity)."""
    if not shrink:
        return np.cov(features, rowvar=False), 0.0
    from sklearn.covariance import ledoit_wolf

    cov, intensity = ledoit_wolf(features)
    return cov, float(intensity)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Frechet distance between Gaussians fitted to two feature sets, |mu_a - mu_b|^2 + Tr(Ca + Cb - 2 (Ca Cb)^1/2),
    and the Ledoit-Wolf shrinkage intensity used (0: sample covariances).

    With fewer faces than feature dimensions (1024 here) a sample covariance is singular and the matrix root
    is noise (scipy warns "Matrix is singular"): then both covariances are Ledoit-Wolf estimates, full rank,
    and the shrinkage is returned so the report can say so."""
    shrink = min(len(a), len(b)) <= a.shape[1]
    mu_a, mu_b = a.mean(0), b.mean(0)
    (cov_a, shrink_a), (cov_b, shrink_b) = covariance(a, shrink), covariance(b, shrink)
    root = np.real(linalg.sqrtm(cov_a @ cov_b))
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root)), (shrink_a + shrink_b) / 2


KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000
"""Random subsets the KID is averaged over, and their size (at most: the smaller set's size), as torch-fidelity
and torchmetrics report it."""
PRDC_K = 5
"""Neighbours that set each face's radius for precision, recall, density and coverage (Naeem et al. 2020's k)."""


def kernel_inception_distance(
    real: np.ndarray, generated: np.ndarray, subsets: int = KID_SUBSETS, size: int = KID_SUBSET_SIZE, seed: int = 0
) -> tuple[float, float]:
    """KID (Binkowski et al. 2018): the unbiased estimate of the squared MMD between the two feature sets under the
    cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets; (mean, sd over subsets).
    Unbiased, unlike the Frechet distance, so that sets of other sizes compare. Written here rather than taken from
    torchmetrics, whose KID computes Inception features from images (weights downloaded): these features are the
    real-only classifiers'."""
    d, m = real.shape[1], min(size, len(real), len(generated))
    if m < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)].astype(np.float64)
        y = generated[rng.choice(len(generated), m, replace=False)].astype(np.float64)
        kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(within - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def precision_recall_density_coverage(real: np.ndarray, generated: np.ndarray, k: int = PRDC_K) -> dict[str, float]:
    """Precision and recall (Kynkaanniemi et al. 2019: how many generated faces fall within the real faces' k-NN
    balls, and the other way round) and density and coverage (Naeem et al. 2020: the same, robust to outliers),
    with the authors' reference code (the `prdc` package)."""
    import contextlib
    import io

    from prdc import compute_prdc

    if min(len(real), len(generated)) <= k:
        return {name: float("nan") for name in ("precision", "recall", "density", "coverage")}
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the set sizes
        return {name: float(v) for name, v in compute_prdc(real, generated, nearest_k=k).items()}


def identity_preservation(features: np.ndarray, table: pd.DataFrame) -> dict[str, float]:
    """Distance from each translated face to its own neutral source, against the distance to other identities'
    neutral faces. A ratio well below 1 means the translator keeps who the person is. NaN without neutral faces."""
    neutral = table["emotion"].to_numpy() == NEUTRAL
    if not neutral.any():  # an external generator without neutral faces: nothing to preserve from
        return {k: float("nan") for k in ("same_identity_distance", "other_identity_distance", "identity_ratio")}
    subjects = table["subject"].to_numpy()
    source_of = {s: i for i, s in zip(np.flatnonzero(neutral), subjects[neutral])}
    translated = np.flatnonzero(np.isin(table["emotion"].to_numpy(), EMOTIONS) & np.isin(subjects, list(source_of)))
    sources = np.array([source_of[s] for s in subjects[translated]])
    to_all_neutral = pairwise_distances(features[translated], features[neutral])
    own = to_all_neutral[np.arange(len(translated)), np.searchsorted(np.flatnonzero(neutral), sources)]
    other = (to_all_neutral.sum(1) - own) / max(1, neutral.sum() - 1)
    return {
        "same_identity_distance": float(own.mean()),
        "other_identity_distance": float(other.mean()),
        "identity_ratio": float(own.mean() / other.mean()),
    }


def diversity(features: np.ndarray, emotions: np.ndarray) -> dict[str, float]:
    """Mean pairwise distance between faces of the same emotion, per emotion."""
    out = {}
    for emotion in EMOTIONS:
        f = features[emotions == emotion]
        if len(f) > 1:
            d = pairwise_distances(f)
            out[emotion] = float(d[np.triu_indices(len(f), 1)].mean())
    return out


def quality_rows(
    features_generated: np.ndarray,
    generated_table: pd.DataFrame,
    features_real: np.ndarray,
    real_emotions: np.ndarray,
    model: str,
) -> list[dict]:
    """quality.csv rows of one real-only model: identity preservation, diversity (generated and real), Frechet distance
    and the covariance shrinkage it needed."""
    rows = [
        {"model": model, "metric": k, "emotion": "all", "value": v}
        for k, v in identity_preservation(features_generated, generated_table).items()
    ]
    gen_emotions = generated_table["emotion"].to_numpy()
    for source, (f, e) in {
        "generated": (features_generated, gen_emotions),
        "real": (features_real, real_emotions),
    }.items():
        rows += [
            {"model": model, "metric": f"diversity_{source}", "emotion": em, "value": v}
            for em, v in diversity(f, e).items()
        ]
    emotional = np.isin(gen_emotions, EMOTIONS)
    real_emotional = np.isin(real_emotions, EMOTIONS)
    distance, shrinkage = frechet_distance(features_real[real_emotional], features_generated[emotional])
    rows.append({"model": model, "metric": "frechet_distance", "emotion": "all", "value": distance})
    rows.append(
        {"model": model, "metric": "frechet_shrinkage", "emotion": "all", "value": shrinkage}
    )  # 0: sample covariances
    kid, kid_sd = kernel_inception_distance(features_real[real_emotional], features_generated[emotional])
    rows += [
        {"model": model, "metric": "kid", "emotion": "all", "value": kid},
        {"model": model, "metric": "kid_sd", "emotion": "all", "value": kid_sd},
    ]
    prdc = precision_recall_density_coverage(features_real[real_emotional], features_generated[emotional])
    rows += [{"model": model, "metric": name, "emotion": "all", "value": v} for name, v in prdc.items()]
    return rows


EIGENFACES = 64
"""Principal components of the real training faces' pixels that span the second feature space."""


def eigenface_features(real_train: np.ndarray, *sets: np.ndarray) -> list[np.ndarray]:
    """Each set of uint8 faces (N, S, S) projected on the first EIGENFACES principal components of `real_train`
    (fitted on those faces only, whitened so that every component counts alike)."""
    from sklearn.decomposition import PCA

    flat = [np.asarray(x, dtype=np.float32).reshape(len(x), -1) / 255.0 for x in (real_train, *sets)]
    pca = PCA(n_components=min(EIGENFACES, *flat[0].shape), whiten=True, random_state=0).fit(flat[0])
    return [pca.transform(x) for x in flat[1:]]


def eigenface_rows(
    real_train: np.ndarray,
    real: np.ndarray,
    real_emotions: np.ndarray,
    generated: np.ndarray,
    generated_emotions: np.ndarray,
) -> list[dict]:
    """quality.csv rows in eigenfaces (model `eigenfaces`, metric names ending in `_eigenfaces`): Frechet
    distance, KID and precision/recall/density/coverage of the emotional faces."""
    real_f, generated_f = eigenface_features(
        real_train, real[np.isin(real_emotions, EMOTIONS)], generated[np.isin(generated_emotions, EMOTIONS)]
    )
    distance, _ = frechet_distance(real_f, generated_f)
    kid, kid_sd = kernel_inception_distance(real_f, generated_f)
    measured = {
        "frechet_distance": distance,
        "kid": kid,
        "kid_sd": kid_sd,
        **precision_recall_density_coverage(real_f, generated_f),
    }
    return [
        {"model": "eigenfaces", "metric": f"{name}_eigenfaces", "emotion": "all", "value": v}
        for name, v in measured.items()
    ]
