"""Workflow step of the generation stage: one unit of the balanced synthetic set.

The step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake.
Each module imports only what its stage needs, so a job starts fast.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict

import pandas as pd
import torch

from synthfer.data.splits import assert_subject_disjoint
from synthfer.data.store import FaceSet, read_stores, write_face_set
from synthfer.generate import generate_balanced_set
from synthfer.identities import (
    GANIdentities,
    IdentityConfig,
    IdentitySource,
    RealNeutralIdentities,
    TorchScriptIdentities,
)
from synthfer.labels import DOMAINS
from synthfer.runtime import pick_device
from synthfer.train.identity_gan import load_identity_gan
from synthfer.translate import load_translator
from synthfer.units import UnitSizes

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def identity_source(
    cfg: IdentityConfig,
    inputs: list[PathLike],
    image_size: int,
    device: torch.device,
    eye_distance: float,
    eye_height: float,
) -> IdentitySource:
    """The configured identity source from its input files: the identity GAN's model file, the user's
    TorchScript file, or the files of the GAN-training face stores."""
    if cfg.identities == "gan":
        generator, _ = load_identity_gan(inputs[0], device)
        return GANIdentities(generator, cfg.seed, cfg.truncation)
    if cfg.identities == "torchscript":
        return TorchScriptIdentities(
            inputs[0], cfg.z_dim, image_size, cfg.seed, cfg.align, eye_distance, eye_height, device=device
        )
    faces = FaceSet.concat(read_stores(inputs))
    return RealNeutralIdentities(faces.images, faces.table, cfg.seed)


def generate_unit(
    real: PathLike,
    identities: IdentityConfig,
    identity_inputs: list[PathLike],
    translator: str,
    translator_models: list[PathLike],
    unit: int,
    image_size: int,
    eyes: tuple[float, float],
    device: str,
    images: PathLike,
    table: PathLike,
) -> None:
    """One unit of generated faces: as many new identities per split as the real set (its split table `real`)
    has subjects, each shown with every emotion by the named translator. (Eleven names: one per name of its
    rule.)"""
    real_table, identity_cfg, translator_name = real, identities, translator
    dev = pick_device(device)
    sizes = UnitSizes.from_split_table(pd.read_csv(real_table))
    source = identity_source(identity_cfg, identity_inputs, image_size, dev, *eyes)
    faces = generate_balanced_set(
        source, load_translator(translator_name, translator_models, dev), sizes, range(unit, unit + 1)
    )
    assert_subject_disjoint(faces.table)
    write_face_set(faces, images, table)
    log.info(
        "%s unit %d: %d %s identities (%s) x %d domains",
        translator_name,
        unit,
        sizes.total,
        identity_cfg.identities,
        asdict(sizes),
        len(DOMAINS),
    )
