"""Subject-disjoint splits: no identity, real or generated, ever appears in two of train/val/test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

SPLITS = ("train", "val", "test")


def _size(value: float | int) -> float | int:
    """Counts are ints >= 1, fractions are floats in (0, 1): sklearn's convention."""
    return int(value) if float(value) >= 1 else float(value)


def _one_split(groups: np.ndarray, val: float | int, test: float | int, seed: int) -> np.ndarray:
    idx = np.arange(len(groups))
    split = np.full(len(groups), "train", dtype=object)
    outer = GroupShuffleSplit(n_splits=1, test_size=_size(test), random_state=seed)
    rest, test_idx = next(outer.split(idx, groups=groups))
    split[test_idx] = "test"
    val_size = _size(val)
    if isinstance(val_size, float):  # fraction of all subjects, not of what test left over
        val_size = max(1, int(round(val_size * len(np.unique(groups)))))
    inner = GroupShuffleSplit(n_splits=1, test_size=val_size, random_state=seed + 1)
    _, val_rel = next(inner.split(rest, groups=groups[rest]))
    split[rest[val_rel]] = "val"
    return split


def _imbalance(split: np.ndarray, emotions: np.ndarray) -> float:
    """Largest total-variation distance between a split's emotion mix and the whole set's."""
    overall = pd.Series(emotions).value_counts(normalize=True)
    worst = 0.0
    for part in SPLITS:
        mix = pd.Series(emotions[split == part]).value_counts(normalize=True).reindex(overall.index, fill_value=0)
        worst = max(worst, 0.5 * float((mix - overall).abs().sum()))
    return worst


def split_subjects(
    subjects: pd.Series, val: float | int, test: float | int, seed: int, emotions: pd.Series | None = None, candidates: int = 64
) -> pd.Series:
    """Assign each row's subject to train/val/test; `val`/`test` are subject counts or fractions.

    With `emotions`, stratified where the subjects allow it: of `candidates` subject-disjoint draws
    (deterministic per seed) the one whose splits' emotion mixes are closest to the whole set's is kept.
    Subject-disjointness is never traded for balance.
    """
    groups = subjects.to_numpy()
    if emotions is None:
        return pd.Series(_one_split(groups, val, test, seed), index=subjects.index, name="split")
    labels = emotions.to_numpy()
    rng = np.random.default_rng(seed)
    draws = [seed] + [int(s) for s in rng.integers(0, 2**31 - 1, size=candidates - 1)]
    # rounded, so that draws equally balanced up to float noise keep the first (the unstratified split)
    best = min((_one_split(groups, val, test, s) for s in draws), key=lambda split: round(_imbalance(split, labels), 9))
    return pd.Series(best, index=subjects.index, name="split")


def assert_subject_disjoint(table: pd.DataFrame, subject: str = "subject", split: str = "split") -> None:
    """Raise if any subject sits in more than one split."""
    per_subject = table.groupby(subject)[split].nunique()
    leaks = per_subject[per_subject > 1]
    if len(leaks):
        raise AssertionError(f"{len(leaks)} subjects in several splits, e.g. {list(leaks.index[:5])}")
