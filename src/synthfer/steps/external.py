"""Workflow step of an external arm: another generator's faces dealt into the study's units.

The step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake. It runs no
network, so that editing the GANs' code never reruns it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict

import pandas as pd

from synthfer.data.splits import assert_subject_disjoint
from synthfer.data.store import read_one_store, write_face_set
from synthfer.external import complete_identities, external_units
from synthfer.io import atomic_write_csv
from synthfer.units import UnitSizes

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def assign_external_faces_step(
    faces: list[PathLike], real: PathLike, external: str, seed: int, units: list[PathLike], left_out: PathLike
) -> None:
    """An external generator's faces (the files of their store) dealt into units like a translator's (`units`:
    faces.npz and faces.csv of each unit in order), as many identities per split as the real set (its split
    table `real`) has subjects; the faces left out, with their reason, in `left_out`."""
    store = read_one_store(faces)
    sizes = UnitSizes.from_split_table(pd.read_csv(real))
    _, rejected = complete_identities(store.table)
    atomic_write_csv(rejected, left_out)
    if len(rejected):
        log.warning(
            "external %s: %d face(s) left out (%s); the list with reasons: %s",
            external,
            len(rejected),
            "; ".join(f"{n} x {r}" for r, n in rejected["reason"].value_counts().items()),
            left_out,
        )
    made = external_units(store, external, sizes, len(units) // 2, seed)
    for unit, part in enumerate(made):
        assert_subject_disjoint(part.table)
        write_face_set(part, units[2 * unit], units[2 * unit + 1])
        log.info(
            "external %s unit %d: %d faces of %d identities (%s)",
            external,
            unit,
            len(part.images),
            part.table["subject"].nunique(),
            asdict(sizes),
        )
