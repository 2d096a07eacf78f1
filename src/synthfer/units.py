"""How many identities one unit of generated faces holds per split: as many as the real set has subjects (the
paper's balanced synthetic set). Shared by the translators' units (synthfer.generate) and an external
generator's (synthfer.external); imports nothing heavy, so that neither pulls in the other's networks."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


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
    def from_split_table(table: pd.DataFrame) -> UnitSizes:
        counts = table.groupby("split")["subject"].nunique()
        return UnitSizes(*(int(counts.get(s, 0)) for s in ("train", "val", "test")))
