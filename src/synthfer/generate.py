"""The balanced synthetic set: every new identity shown with all six emotions.

Identities are drawn from the identity source and grouped in units with the same identity counts as
the real split (train/val/test), as in the paper; each identity belongs to exactly one unit and split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from synthfer.data.store import FaceSet
from synthfer.identities import IdentitySource
from synthfer.labels import EMOTIONS, NEUTRAL
from synthfer.logs import Progress
from synthfer.translate import Translator
from synthfer.units import UnitSizes


def unit_assignment(sizes: UnitSizes, units: range) -> pd.DataFrame:
    """One row per generated identity of the given units: its subject key, unit and split."""
    rows = []
    for unit in units:
        for split, count in (("train", sizes.train), ("val", sizes.val), ("test", sizes.test)):
            for _ in range(count):
                rows.append({"subject": f"generated/u{unit:02d}_{len(rows):06d}", "unit": unit, "split": split})
    return pd.DataFrame(rows)


def generate_balanced_set(
    identities: IdentitySource, translator: Translator, sizes: UnitSizes, units: range
) -> FaceSet:
    """Neutral source face + the six emotions for every identity; rows carry subject, unit and split.
    The identities depend only on the source's seed and the unit, so every translator is given the same
    neutral faces."""
    ids = unit_assignment(sizes, units)
    neutral = torch.cat([identities.draw(sizes.total, unit) for unit in units])
    parts_images = [neutral]
    parts_tables = [ids.assign(emotion=NEUTRAL)]
    progress = Progress("translated emotion", len(EMOTIONS), every_s=0)
    for i, emotion in enumerate(EMOTIONS, 1):
        parts_images.append(translator.to_emotion(neutral, emotion))
        parts_tables.append(ids.assign(emotion=emotion))
        progress.update(i, emotion)
    images = torch.cat(parts_images)[:, 0].numpy()
    table = pd.concat(parts_tables, ignore_index=True)
    table["source"] = "generated"
    table["translator"] = translator.name
    table["identity_source"] = identities.name
    table["frame"] = 0
    table["intensity"] = np.nan
    return FaceSet(images, table)
