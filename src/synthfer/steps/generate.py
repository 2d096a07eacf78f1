"""Workflow step of the generation stage: one unit of the balanced synthetic set.

Called by the Snakemake scripts (a few lines each) and by the tests; nothing here knows about Snakemake.
Each module imports only what its stage needs, so a job starts fast.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict

import pandas as pd
import torch

from synthfer.data.splits import assert_subject_disjoint
from synthfer.data.store import FaceSet, read_store, write_face_set
from synthfer.generate import UnitSizes, generate_balanced_set
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
    TorchScript file, or the GAN-training face stores."""
    if cfg.identities == "gan":
        generator, _ = load_identity_gan(inputs[0], device)
        return GANIdentities(generator, cfg.seed, cfg.truncation)
    if cfg.identities == "torchscript":
        return TorchScriptIdentities(
            inputs[0], cfg.z_dim, image_size, cfg.seed, cfg.align, eye_distance, eye_height, device=device
        )
    faces = FaceSet.concat([read_store(s) for s in inputs])
    return RealNeutralIdentities(faces.images, faces.table, cfg.seed)


def generate_unit(
    real_table: PathLike,
    identity_cfg: IdentityConfig,
    identity_inputs: list[PathLike],
    translator_name: str,
    translator_models: list[PathLike],
    unit: int,
    image_size: int,
    eyes: tuple[float, float],
    device: str,
    out_images: PathLike,
    out_table: PathLike,
) -> None:
    """One unit of generated faces: as many new identities per split as the real set has subjects, each
    shown with every emotion by the named translator."""
    dev = pick_device(device)
    sizes = UnitSizes.from_split_table(pd.read_csv(real_table))
    identities = identity_source(identity_cfg, identity_inputs, image_size, dev, *eyes)
    translator = load_translator(translator_name, translator_models, dev)
    faces = generate_balanced_set(identities, translator, sizes, range(unit, unit + 1))
    assert_subject_disjoint(faces.table)
    write_face_set(faces, out_images, out_table)
    log.info(
        "%s unit %d: %d %s identities (%s) x %d domains",
        translator_name,
        unit,
        sizes.total,
        identity_cfg.identities,
        asdict(sizes),
        len(DOMAINS),
    )
