"""Removing ambiguous samples from a crowd-labelled set (FER2013, study 2) before it is used.

A face is ambiguous when a classifier that never saw it gives its own label a low probability. Every
face is scored out of fold (k-fold cross-fitting: the model that scores a face was trained on the
other folds), so the score is not the memorised training label. Within each class the most confident
`keep` share stays, so a minority class is thinned in proportion, never emptied.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import torch

from synthfer.labels import DOMAINS
from synthfer.settings import AmbiguityFilterConfig  # noqa: F401 - re-exported
from synthfer.train.classifier import ClassifierConfig, predict_proba, train_classifier

log = logging.getLogger("synthfer")


def classes_of(emotions: pd.Series) -> list[str]:
    """The classes present, in canonical order (FER2013 keeps neutral as a class of its own)."""
    present = set(emotions)
    return [d for d in DOMAINS if d in present]


def out_of_fold_confidence(
    images: np.ndarray, emotions: pd.Series, groups: pd.Series, cfg: AmbiguityFilterConfig, device: torch.device
) -> np.ndarray:
    """Probability each face's own label gets from a classifier trained on the other folds."""
    classes = classes_of(emotions)
    labels = emotions.map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    groups_arr = groups.to_numpy()
    model_cfg = ClassifierConfig(
        image_size=cfg.image_size,
        max_epochs=cfg.max_epochs,
        patience=cfg.patience,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        n_classes=len(classes),
        precision=cfg.precision,
    )
    confidence = np.full(len(labels), np.nan)
    from sklearn.model_selection import (
        GroupShuffleSplit,
        StratifiedGroupKFold,
    )  # here: scikit-learn costs 1.3 s to import, every workflow parse pays it

    folds = StratifiedGroupKFold(n_splits=cfg.folds, shuffle=True, random_state=cfg.seed)
    for fold, (fit, held) in enumerate(folds.split(images, labels, groups_arr)):
        inner = GroupShuffleSplit(n_splits=1, test_size=0.1, random_state=cfg.seed + fold)
        tr, va = next(inner.split(fit, groups=groups_arr[fit]))
        model, history = train_classifier(
            images[fit[tr]], labels[fit[tr]], images[fit[va]], labels[fit[va]], model_cfg, cfg.seed + fold, device
        )
        proba = predict_proba(model, images[held])
        confidence[held] = proba[np.arange(len(held)), labels[held]]
        log.info(
            "fold %d/%d: %d faces scored, best epoch %d",
            fold + 1,
            cfg.folds,
            len(held),
            int(history.loc[history["best"], "epoch"].iloc[0]),
        )
    return confidence


def select_unambiguous(emotions: pd.Series, confidence: np.ndarray, keep: float) -> np.ndarray:
    """Boolean mask: within each class, the ceil(keep * n) faces whose label is most confidently confirmed."""
    mask = np.zeros(len(emotions), dtype=bool)
    values = emotions.to_numpy()
    for emotion in np.unique(values):
        idx = np.flatnonzero(values == emotion)
        n_keep = math.ceil(keep * len(idx))
        order = idx[np.argsort(-confidence[idx], kind="stable")]
        mask[order[:n_keep]] = True
    return mask


def counts_before_after(emotions: pd.Series, mask: np.ndarray) -> pd.DataFrame:
    """Per class: faces before and after filtering, and the share kept (the report of the filter)."""
    before = emotions.value_counts()
    after = emotions[mask].value_counts()
    classes = classes_of(emotions)
    table = pd.DataFrame(
        {
            "emotion": classes,
            "before": [int(before.get(c, 0)) for c in classes],
            "after": [int(after.get(c, 0)) for c in classes],
        }
    )
    total = pd.DataFrame(
        {"emotion": ["total"], "before": [int(table["before"].sum())], "after": [int(table["after"].sum())]}
    )
    table = pd.concat([table, total], ignore_index=True)
    table["kept_share"] = (table["after"] / table["before"]).round(4)
    return table
