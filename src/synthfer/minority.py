"""Study 2's protocol: add n translated faces of one minority emotion, judged by repeated stratified k-fold
cross-validation (3 x 10 in the paper), against the same folds without them.

Every fold trains the paper CNN on the fold's training part (a stratified share held out for early
stopping) plus the n generated faces, and tests on the fold's test part: accuracy, per-class precision,
one-vs-rest ROC AUC. The generated faces are the same n translations of neutral faces for every fold, and
the folds are the same for every setting (one seed), so settings are compared fold by fold. Neutral is a
translation source here, not a class (the paper's classifier had 7 classes; ours has the 6 emotions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from synthfer.data.store import FaceSet
from synthfer.experiment import emotions_only, labels_of
from synthfer.labels import EMOTIONS, NEUTRAL
from synthfer.logs import Progress
from synthfer.metrics import classification_metrics, one_vs_rest_auc
from synthfer.train.classifier import ClassifierConfig, predict_proba, train_classifier
from synthfer.translate import Translator

log = logging.getLogger("synthfer")


@dataclass(frozen=True)
class MinorityConfig:
    target: str = "disgust"
    folds: int = 10
    repeats: int = 3
    val_share: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.target not in EMOTIONS:
            raise ValueError(f"minority target must be one of {EMOTIONS}, got {self.target!r}")


def translated_minority(faces: FaceSet, translator: Translator | None, target: str, n: int, seed: int) -> FaceSet | None:
    """n neutral faces of the set (a seeded draw, the same for every n's prefix) translated into `target`."""
    if n == 0 or translator is None:
        return None
    neutral = np.flatnonzero((faces.table["emotion"] == NEUTRAL).to_numpy())
    if len(neutral) < n:
        raise ValueError(f"adding {n} translated {target} faces needs {n} neutral faces; the set has {len(neutral)}")
    pick = neutral[np.random.default_rng(seed).permutation(len(neutral))[:n]]
    images = translator.to_emotion(torch.from_numpy(faces.images[pick]).unsqueeze(1), target)[:, 0].numpy()
    table = faces.table.iloc[pick].reset_index(drop=True).assign(emotion=target, source="generated", split="train")
    return FaceSet(images, table)


def cross_validate(faces: FaceSet, added: FaceSet | None, cfg: MinorityConfig, classifier: ClassifierConfig, device: torch.device) -> pd.DataFrame:
    """One row per (repeat, fold): the fold's metrics on its test part."""
    real = emotions_only(faces)
    y = labels_of(real)
    splitter = RepeatedStratifiedKFold(n_splits=cfg.folds, n_repeats=cfg.repeats, random_state=cfg.seed)
    rows = []
    progress = Progress("cross-validation fold", cfg.folds * cfg.repeats, every_s=0)
    for i, (train, test) in enumerate(splitter.split(real.images, y)):
        fit, val = train_test_split(train, test_size=cfg.val_share, stratify=y[train], random_state=cfg.seed + i)
        x_fit, y_fit = real.images[fit], y[fit]
        if added is not None:
            x_fit, y_fit = np.concatenate([x_fit, added.images]), np.concatenate([y_fit, labels_of(added)])
        model, _ = train_classifier(x_fit, y_fit, real.images[val], y[val], classifier, cfg.seed + i, device)
        proba = predict_proba(model, real.images[test])
        true, pred = np.asarray(EMOTIONS)[y[test]], np.asarray(EMOTIONS)[proba.argmax(1)]
        rows.append({"repeat": i // cfg.folds, "fold": i % cfg.folds, "n_train": len(x_fit), "n_test": len(test),
                     **classification_metrics(true, pred), **one_vs_rest_auc(true, proba)})
        progress.update(i + 1, f"acc={rows[-1]['accuracy']:.3f} macro_auc={rows[-1]['macro_auc_ovr']:.3f}")
    return pd.DataFrame(rows)


def corrected_paired_ttest(diffs: np.ndarray, n_train: float, n_test: float) -> dict[str, float]:
    """Mean difference over repeated-CV folds with the Nadeau-Bengio corrected resampled t-test: folds share
    training data, so the plain t-test's variance is inflated by (1/J + n_test/n_train)."""
    diffs = np.asarray(diffs, dtype=float)
    j = len(diffs)
    mean = float(diffs.mean())
    var = float(diffs.var(ddof=1)) if j > 1 else float("nan")
    se = np.sqrt((1 / j + n_test / n_train) * var) if j > 1 else float("nan")
    if j < 2 or se == 0 or np.isnan(se):
        p = 1.0 if mean == 0 else float("nan")
        return {"diff": mean, "ci_low": mean, "ci_high": mean, "p_value": p}
    t = mean / se
    half = float(stats.t.ppf(0.975, j - 1) * se)
    return {"diff": mean, "ci_low": mean - half, "ci_high": mean + half, "p_value": float(2 * stats.t.sf(abs(t), j - 1))}


def compare_with_baseline(folds: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Every (translator, n) against n = 0 on the same folds, per metric."""
    key = ["repeat", "fold"]
    base = folds[folds["n"] == 0].set_index(key)
    rows = []
    for (translator, n), group in folds[folds["n"] > 0].groupby(["translator", "n"]):
        group = group.set_index(key)
        common = group.index.intersection(base.index)
        for metric in metrics:
            diffs = (group.loc[common, metric] - base.loc[common, metric]).dropna().to_numpy()
            if len(diffs) == 0:
                continue
            test = corrected_paired_ttest(diffs, group.loc[common, "n_train"].mean(), group.loc[common, "n_test"].mean())
            rows.append({"translator": translator, "n": int(n), "metric": metric, "baseline": float(base.loc[common, metric].mean()),
                         "with_added": float(group.loc[common, metric].mean()), **test, "folds": len(diffs)})
    return pd.DataFrame(rows)
