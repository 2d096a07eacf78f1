"""The balanced synthetic set: every new identity shown with all six emotions.

Identities are drawn from the identity source and grouped in units with the same identity counts as
the real split (train/val/test), as in the paper; each identity belongs to exactly one unit and split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from synthfer.data.store import FaceSet
from synthfer.labels import DOMAINS, EMOTIONS, NEUTRAL
from synthfer.logs import Progress
from synthfer.train.identity_gan import sample_identities
from synthfer.train.stargan import translate


@dataclass(frozen=True)
class UnitSizes:
    """Identities per split in one unit: the real set's subject counts."""

    train: int
    val: int
    test: int

    @property
    def total(self) -> int:
        return self.train + self.val + self.test

    @staticmethod
    def from_split_table(table: pd.DataFrame) -> "UnitSizes":
        counts = table.groupby("split")["subject"].nunique()
        return UnitSizes(*(int(counts.get(s, 0)) for s in ("train", "val", "test")))


def unit_assignment(sizes: UnitSizes, units: range) -> pd.DataFrame:
    """One row per generated identity of the given units: its subject key, unit and split."""
    rows = []
    for unit in units:
        for split, count in (("train", sizes.train), ("val", sizes.val), ("test", sizes.test)):
            for _ in range(count):
                rows.append({"subject": f"generated/u{unit:02d}_{len(rows):06d}", "unit": unit, "split": split})
    return pd.DataFrame(rows)


def generate_balanced_set(identity_gen: torch.nn.Module, translator: torch.nn.Module, sizes: UnitSizes, units: range, seed: int, batch: int = 256) -> FaceSet:
    """Neutral source face + the six emotions for every identity; rows carry subject, unit and split."""
    ids = unit_assignment(sizes, units)
    n = len(ids)
    neutral = sample_identities(identity_gen, n, seed, batch)
    parts_images = [neutral]
    parts_tables = [ids.assign(emotion=NEUTRAL)]
    progress = Progress("translated emotion", len(EMOTIONS), every_s=0)
    for i, emotion in enumerate(EMOTIONS, 1):
        parts_images.append(translate(translator, neutral, DOMAINS.index(emotion), batch))
        parts_tables.append(ids.assign(emotion=emotion))
        progress.update(i, emotion)
    images = torch.cat(parts_images)[:, 0].numpy()
    table = pd.concat(parts_tables, ignore_index=True)
    table["source"] = "generated"
    table["frame"] = 0
    table["intensity"] = np.nan
    return FaceSet(images, table)
