"""Workflow steps of the generative stage: train the expression translator and the identity source.

Called by the Snakemake scripts (a few lines each) and by the tests; nothing here knows about Snakemake.
Each module imports only what its stage needs, so a job starts fast.
"""

from __future__ import annotations

import logging
import os

from synthfer.data.store import FaceSet, read_store
from synthfer.io import atomic_write_csv
from synthfer.labels import DOMAINS, NEUTRAL
from synthfer.runtime import pick_device
from synthfer.train.cyclegan import CycleGANConfig, save_cyclegan, train_cyclegan
from synthfer.train.identity_gan import IdentityGANConfig, save_identity_gan, train_identity_gan
from synthfer.train.stargan import StarGANConfig, save_stargan, train_stargan

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def _gan_training_faces(stores: list[PathLike], neutral_only: bool) -> FaceSet:
    faces = FaceSet.concat([read_store(s) for s in stores])
    if neutral_only:
        faces = faces.select((faces.table["emotion"] == NEUTRAL).to_numpy())
    if len(faces.images) == 0:
        raise ValueError("no faces to train on" + (" (no neutral faces in roles.gan_train)" if neutral_only else ""))
    return faces


def train_stargan_step(
    stores: list[PathLike],
    cfg: StarGANConfig,
    device: str,
    out_model: PathLike,
    out_losses: PathLike,
    work_dir: PathLike,
) -> None:
    faces = _gan_training_faces(stores, neutral_only=False)
    domains = faces.table["emotion"].map(DOMAINS.index).to_numpy()
    log.info("StarGAN on %d faces; per domain: %s", len(domains), faces.table["emotion"].value_counts().to_dict())
    G, losses = train_stargan(faces.images, domains, cfg, pick_device(device), work_dir)
    atomic_write_csv(losses, out_losses)
    save_stargan(G.cpu(), cfg, out_model)


def train_identity_step(
    stores: list[PathLike],
    cfg: IdentityGANConfig,
    device: str,
    out_model: PathLike,
    out_losses: PathLike,
    work_dir: PathLike,
) -> None:
    faces = _gan_training_faces(stores, neutral_only=True)
    log.info("identity GAN on %d neutral faces", len(faces.images))
    G, losses = train_identity_gan(faces.images, cfg, pick_device(device), work_dir)
    atomic_write_csv(losses, out_losses)
    save_identity_gan(G.cpu(), cfg, out_model)


def train_cyclegan_step(
    stores: list[PathLike],
    cfg: CycleGANConfig,
    device: str,
    out_model: PathLike,
    out_losses: PathLike,
    work_dir: PathLike,
) -> None:
    """One unpaired translator cfg.source -> cfg.target on the GAN-training faces of those two emotions."""
    faces = _gan_training_faces(stores, neutral_only=False)
    emotion = faces.table["emotion"].to_numpy()
    source, target = faces.images[emotion == cfg.source], faces.images[emotion == cfg.target]
    for name, part in ((cfg.source, source), (cfg.target, target)):
        if len(part) == 0:
            raise ValueError(
                f"{cfg.variant}: no {name} faces in roles.gan_train, so {cfg.source} -> {cfg.target} cannot be learned"
            )
    log.info("%s %s -> %s on %d + %d faces", cfg.variant, cfg.source, cfg.target, len(source), len(target))
    G, losses = train_cyclegan(source, target, cfg, pick_device(device), work_dir)
    atomic_write_csv(losses, out_losses)
    save_cyclegan(G.cpu(), cfg, out_model)
