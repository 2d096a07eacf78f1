"""Study 2's folds: repeated stratified k-fold by subject, and the neutral faces each fold translates.

A module of its own (numpy, pandas, scikit-learn; no torch): the design check plans the folds before any GAN
trains, and its code is then the folds' alone (synthfer.codemap), not the cross-validation's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from synthfer.data.store import FaceSet
from synthfer.labels import EMOTIONS, NEUTRAL
from synthfer.settings import MinorityConfig


@dataclass(frozen=True)
class FoldPlan:
    """One fold: positions in the set's emotional faces (fit, val, test) and the neutral faces (positions in
    the whole set) whose translations are added to its training part."""

    repeat: int
    fold: int
    fit: np.ndarray
    val: np.ndarray
    test: np.ndarray
    added: np.ndarray


def plan_folds(faces: FaceSet | pd.DataFrame, n: int, cfg: MinorityConfig) -> list[FoldPlan]:
    """Repeated stratified k-fold by subject: no person is in two parts of a fold, and the n neutral faces
    translated for a fold come from its fit subjects only (the first n of one seeded order, so a larger n
    holds a smaller one's faces). A set without identities (FER2013: one subject per image) gets plain
    stratified folds. Takes the face table alone too: the preflight check plans the folds before any GAN trains."""
    table = (faces.table if isinstance(faces, FaceSet) else faces).reset_index(drop=True)
    emotional = np.flatnonzero(table["emotion"].isin(EMOTIONS).to_numpy())
    y = (
        table["emotion"].iloc[emotional].map({e: i for i, e in enumerate(EMOTIONS)}).to_numpy(np.int64)
    )  # labels_of, in the order of `emotional`
    groups = table["subject"].to_numpy()[emotional]
    neutral = np.flatnonzero((table["emotion"] == NEUTRAL).to_numpy())
    order = neutral[np.random.default_rng(cfg.seed).permutation(len(neutral))]
    order_subjects = table["subject"].to_numpy()[order]
    plans = []
    for repeat in range(cfg.repeats):
        outer = StratifiedGroupKFold(n_splits=cfg.folds, shuffle=True, random_state=cfg.seed + repeat)
        for fold, (train, test) in enumerate(outer.split(emotional, y, groups)):
            inner = StratifiedGroupKFold(
                n_splits=max(2, round(1 / cfg.val_share)), shuffle=True, random_state=cfg.seed + repeat
            )
            fit_part, val_part = next(inner.split(train, y[train], groups[train]))
            fit, val = train[fit_part], train[val_part]
            added = order[np.isin(order_subjects, groups[fit])][:n]
            if len(added) < n:
                raise ValueError(
                    f"adding {n} translated {cfg.target} faces needs {n} neutral faces of a fold's training subjects; "
                    f"fold {fold} of repeat {repeat} has {len(added)} (the set has {len(neutral)} neutral faces): lower minority.n_added"
                )
            plans.append(FoldPlan(repeat, fold, fit, val, test, added))
    return plans
