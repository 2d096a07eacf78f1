"""Subject-disjoint splits: no identity, real or generated, ever appears in two of train/val/test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

SPLITS = ("train", "val", "test")


def _size(value: float | int) -> float | int:
    """Counts are ints >= 1, fractions are floats in (0, 1): sklearn's convention."""
    return int(value) if float(value) >= 1 else float(value)


def split_subjects(subjects: pd.Series, val: float | int, test: float | int, seed: int) -> pd.Series:
    """Assign each row's subject to train/val/test; `val`/`test` are subject counts or fractions."""
    groups = subjects.to_numpy()
    unique = np.unique(groups)
    idx = np.arange(len(groups))
    split = np.full(len(groups), "train", dtype=object)
    outer = GroupShuffleSplit(n_splits=1, test_size=_size(test), random_state=seed)
    rest, test_idx = next(outer.split(idx, groups=groups))
    split[test_idx] = "test"
    val_size = _size(val)
    if isinstance(val_size, float):  # fraction of all subjects, not of what test left over
        val_size = max(1, int(round(val_size * len(unique))))
    inner = GroupShuffleSplit(n_splits=1, test_size=val_size, random_state=seed + 1)
    _, val_rel = next(inner.split(rest, groups=groups[rest]))
    split[rest[val_rel]] = "val"
    return pd.Series(split, index=subjects.index, name="split")


def assert_subject_disjoint(table: pd.DataFrame, subject: str = "subject", split: str = "split") -> None:
    """Raise if any subject sits in more than one split."""
    per_subject = table.groupby(subject)[split].nunique()
    leaks = per_subject[per_subject > 1]
    if len(leaks):
        raise AssertionError(f"{len(leaks)} subjects in several splits, e.g. {list(leaks.index[:5])}")
