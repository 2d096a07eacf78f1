"""Selection of generated faces before mixing them with real ones (the step both papers name as missing).

A generated face is kept when the classifiers trained on real faces only (k = 0, every seed) confirm the
emotion it was generated as: their mean probability of that emotion is at least `min_confidence`, and,
when `top_share` is set, it is among the most confident `top_share` of its emotion. Neutral source faces
are kept (they are not a classifier class). The kept faces keep their unit and split, so identities stay
in one split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthfer.data.store import FaceSet
from synthfer.labels import EMOTIONS, NEUTRAL

SELECTED_SUFFIX = "-selected"


@dataclass(frozen=True)
class SelectionConfig:
    min_confidence: float = 0.5
    top_share: float = 1.0  # keep at most this share of each emotion, the most confident first

    def __post_init__(self) -> None:
        if not 0 <= self.min_confidence <= 1 or not 0 < self.top_share <= 1:
            raise ValueError(f"selection needs 0 <= min_confidence <= 1 and 0 < top_share <= 1, got {self}")


def intended_confidence(faces: FaceSet, probabilities: list[np.ndarray]) -> np.ndarray:
    """Mean probability, over the real-only classifiers, of the emotion each face was generated as (NaN for
    neutral faces). `probabilities`: one (N, 6) array per classifier, columns in EMOTIONS order."""
    mean = np.mean(np.stack(probabilities), axis=0)
    emotion = faces.table["emotion"].to_numpy()
    out = np.full(len(emotion), np.nan)
    for i, e in enumerate(EMOTIONS):
        rows = emotion == e
        out[rows] = mean[rows, i]
    return out


def select_confident(faces: FaceSet, confidence: np.ndarray, cfg: SelectionConfig) -> tuple[FaceSet, pd.DataFrame]:
    """The faces the real-data classifiers confirm, and the counts per emotion before and after."""
    emotion = faces.table["emotion"].to_numpy()
    keep = emotion == NEUTRAL
    rows = []
    for e in EMOTIONS:
        idx = np.flatnonzero(emotion == e)
        passing = idx[confidence[idx] >= cfg.min_confidence]
        limit = int(np.floor(cfg.top_share * len(idx)))
        chosen = passing[np.argsort(-confidence[passing], kind="stable")[:limit]]
        keep[chosen] = True
        rows.append(
            {
                "emotion": e,
                "before": len(idx),
                "after": len(chosen),
                "mean_confidence_kept": float(confidence[chosen].mean()) if len(chosen) else float("nan"),
            }
        )
    counts = pd.DataFrame(rows)
    kept = faces.select(keep)
    kept.table["selection_confidence"] = confidence[keep]
    return kept, counts


def balance_selected(kept: FaceSet, unselected: pd.DataFrame, seed: int) -> tuple[FaceSet, pd.DataFrame]:
    """The control `controls.balanced_selection`: the selected faces of a unit resampled, per split and emotion,
    to the unselected unit's count (each kept face equally often, the remainder drawn without repeats), so
    that selection changes which faces a classifier sees and not its class priors. An emotion with no kept face
    in a split stays empty there; the counts say so. Neutral faces are kept as they are."""
    from synthfer.experiment import budget_sources

    rng = np.random.default_rng(seed)
    keep = [np.flatnonzero((kept.table["emotion"] == NEUTRAL).to_numpy())]
    rows = []
    for split in sorted(set(unselected["split"])):
        for e in EMOTIONS:
            pool = np.flatnonzero(((kept.table["split"] == split) & (kept.table["emotion"] == e)).to_numpy())
            target = int(((unselected["split"] == split) & (unselected["emotion"] == e)).sum())
            drawn = pool[budget_sources(len(pool), target, rng)] if len(pool) else pool
            keep.append(drawn)
            rows.append(
                {
                    "split": split,
                    "emotion": e,
                    "unselected": target,
                    "selected": len(pool),
                    "balanced": len(drawn),
                    "distinct": len(np.unique(drawn)),
                }
            )
    order = np.concatenate(keep)
    return FaceSet(kept.images[order], kept.table.iloc[order].reset_index(drop=True)), pd.DataFrame(rows)
