"""Subject-disjoint splits: no identity, real or generated, ever appears in two of train/val/test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


def split_sizes(n_subjects: int, val: float | int, test: float | int) -> tuple[int, int, int]:
    """Subjects in (train, val, test): counts (>= 1) are taken as they are; a test fraction is rounded up
    (scikit-learn's rule), a val fraction (of all subjects, not of what test left) rounded, at least 1."""
    n_test = int(test) if float(test) >= 1 else math.ceil(float(test) * n_subjects)
    n_val = int(val) if float(val) >= 1 else max(1, int(round(float(val) * n_subjects)))
    return n_subjects - n_val - n_test, n_val, n_test


def _one_split(groups: np.ndarray, val: float | int, test: float | int, seed: int) -> np.ndarray:
    # imported here: every job that reads a split (generation, selection, classifiers) imports this module, and
    # scikit-learn's import is most of a second of each job's start (`python -X importtime`); only the split pays it
    from sklearn.model_selection import GroupShuffleSplit

    idx = np.arange(len(groups))
    split = np.full(len(groups), "train", dtype=object)
    n_subjects = len(np.unique(groups))
    n_train, val_size, test_size = split_sizes(n_subjects, val, test)
    if n_train < 1:
        raise ValueError(
            f"split.val = {val} and split.test = {test} take {val_size} + {test_size} subjects of {n_subjects}: none is left to train on"
        )
    outer = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    rest, test_idx = next(outer.split(idx, groups=groups))
    split[test_idx] = "test"
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
    subjects: pd.Series,
    val: float | int,
    test: float | int,
    seed: int,
    emotions: pd.Series | None = None,
    candidates: int = 64,
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


def cross_subject_copies(images: np.ndarray, subjects: pd.Series) -> list[np.ndarray]:
    """Row indices of faces whose pixels are identical although their subjects differ, one array per set of copies:
    the same photo filed under two subjects (prepared faces are deterministic, so a byte-identical photo gives
    identical pixels), which a subject-disjoint split would put on both sides of a train/test line."""
    import hashlib

    digests = pd.Series([hashlib.blake2b(face.tobytes(), digest_size=16).hexdigest() for face in images])
    groups = []
    for _, rows in digests.groupby(digests).groups.items():
        rows = np.asarray(rows)
        if len(rows) > 1 and subjects.iloc[rows].nunique() > 1:
            groups.append(rows)
    return groups


def assert_subject_disjoint(table: pd.DataFrame, subject: str = "subject", split: str = "split") -> None:
    """Raise if any subject sits in more than one split."""
    per_subject = table.groupby(subject)[split].nunique()
    leaks = per_subject[per_subject > 1]
    if len(leaks):
        raise AssertionError(f"{len(leaks)} subjects in several splits, e.g. {list(leaks.index[:5])}")
