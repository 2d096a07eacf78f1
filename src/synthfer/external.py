"""Faces another generator made (a diffusion editor, StyleGAN latent editing, a commercial tool) as an arm of the
study: `external: {<name>: {dataset: <a dataset>}}`.

The faces arrive as a dataset like any real one (a folder layout or a labels table, through the same detection
and alignment), its subjects being the generator's identities. Here they become units like a translator's:
each complete identity (all six emotions; neutral too where the generator made one) is dealt to one unit and one
split, with as many identities per split as the real set has subjects. Identities that lack an emotion, and
faces beyond the first of an (identity, emotion), go to a list with their reason: nothing is dropped silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthfer.data.store import FaceSet
from synthfer.labels import EMOTIONS, NEUTRAL
from synthfer.units import UnitSizes

IDENTITY_SOURCE = "external"
"""The `identity_source` of an external arm's faces: the generator made the identities too."""


def complete_identities(table: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """The identities with every emotion (in order of first appearance), and the faces left out with their reason
    (`subject`, `emotion`, `path`, `reason`): identities missing an emotion (which ones named), and faces beyond
    the first of an (identity, emotion)."""
    left_out = []
    complete = []
    for subject, faces in table.groupby("subject", sort=False):
        missing = [e for e in EMOTIONS if e not in set(faces["emotion"])]
        if missing:
            reason = f"identity lacks {', '.join(missing)}: a unit shows every identity with all six emotions"
            left_out.append(faces.assign(reason=reason))
            continue
        complete.append(subject)
        extra = faces[faces.duplicated("emotion")]
        if len(extra):
            left_out.append(extra.assign(reason="another face of this identity and emotion is already in its unit"))
    columns = ["subject", "emotion", "path", "reason"]
    rejected = pd.concat(left_out)[columns] if left_out else pd.DataFrame(columns=columns)
    return complete, rejected.reset_index(drop=True)


def external_units(faces: FaceSet, translator: str, sizes: UnitSizes, n_units: int, seed: int) -> list[FaceSet]:
    """`n_units` units of the external faces: complete identities shuffled with `seed` and dealt out, `sizes` per
    unit and split; each face tagged like a generated one (unit, split, translator, identity_source). Too few
    complete identities is an error that says how many the study needs."""
    complete, _ = complete_identities(faces.table)
    needed = n_units * sizes.total
    if len(complete) < needed:
        raise ValueError(
            f"external {translator!r}: {len(complete)} identities have all six emotions, the study needs {needed} "
            f"({n_units} unit(s) x {sizes.total} identities, as many per split as the real set has subjects: "
            f"{sizes.train} train, {sizes.val} val, {sizes.test} test); add identities, or lower experiment.ratios"
        )
    order = np.random.default_rng(seed).permutation(len(complete))
    first = ~faces.table.duplicated(["subject", "emotion"]).to_numpy()
    wanted = faces.table["emotion"].isin([NEUTRAL, *EMOTIONS]).to_numpy() & first
    units = []
    for unit in range(n_units):
        chosen = [complete[i] for i in order[unit * sizes.total : (unit + 1) * sizes.total]]
        splits = ["train"] * sizes.train + ["val"] * sizes.val + ["test"] * sizes.test
        split_of = dict(zip(chosen, splits, strict=True))
        mine = faces.select(wanted & faces.table["subject"].isin(chosen).to_numpy())
        table = mine.table.assign(
            subject=[f"{translator}/{s}" for s in mine.table["subject"]],
            unit=unit,
            split=mine.table["subject"].map(split_of).to_numpy(),
            translator=translator,
            identity_source=IDENTITY_SOURCE,
        )
        units.append(FaceSet(mine.images, table.reset_index(drop=True)))
    return units
