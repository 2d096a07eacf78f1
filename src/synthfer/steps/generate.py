"""Workflow step of the generation stage: one unit of the balanced synthetic set.

Called by the Snakemake scripts (a few lines each) and by the tests; nothing here knows about Snakemake.
Each module imports only what its stage needs, so a job starts fast.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict

import numpy as np
import pandas as pd

from synthfer.data.splits import assert_subject_disjoint
from synthfer.data.store import write_face_set
from synthfer.generate import UnitSizes, generate_balanced_set
from synthfer.labels import DOMAINS
from synthfer.runtime import pick_device
from synthfer.train.identity_gan import load_identity_gan
from synthfer.train.stargan import load_stargan

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def generate_unit(real_table: PathLike, identity_model: PathLike, translator_model: PathLike, unit: int, seed: int, device: str, out_images: PathLike, out_table: PathLike) -> None:
    """One unit of generated faces: as many new identities per split as the real set has subjects."""
    dev = pick_device(device)
    sizes = UnitSizes.from_split_table(pd.read_csv(real_table))
    id_gen, _ = load_identity_gan(identity_model, dev)
    translator, _ = load_stargan(translator_model, dev)
    unit_seed = int(np.random.SeedSequence([seed, unit]).generate_state(1)[0])
    faces = generate_balanced_set(id_gen, translator, sizes, range(unit, unit + 1), unit_seed)
    assert_subject_disjoint(faces.table)
    write_face_set(faces, out_images, out_table)
    log.info("unit %d: %d identities (%s) x %d domains", unit, sizes.total, asdict(sizes), len(DOMAINS))
