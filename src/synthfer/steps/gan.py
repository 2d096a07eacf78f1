"""Workflow steps of the generative stage: train the expression translator and the identity source.

Each step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake. Each module
imports only what its stage needs, so a job starts fast. A GAN's progress (loss plot, sample grids, resume
checkpoints) goes to `progress/` beside its model: not a declared output, so it survives a failed job.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from synthfer.data.store import FaceSet, read_stores
from synthfer.io import atomic_write_csv
from synthfer.labels import DOMAINS, NEUTRAL
from synthfer.runtime import pick_device
from synthfer.settings import CycleGANConfig, IdentityGANConfig, StarGANConfig

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def _progress_dir(model: PathLike) -> Path:
    return Path(model).parent / "progress"


def _gan_training_faces(stores: list[PathLike], neutral_only: bool) -> FaceSet:
    faces = FaceSet.concat(read_stores(stores))
    if neutral_only:
        faces = faces.select((faces.table["emotion"] == NEUTRAL).to_numpy())
    if len(faces.images) == 0:
        raise ValueError("no faces to train on" + (" (no neutral faces in roles.gan_train)" if neutral_only else ""))
    return faces


def train_stargan_step(
    faces: list[PathLike], stargan: StarGANConfig, device: str, model: PathLike, losses: PathLike
) -> None:
    """StarGAN on every GAN-training face (`faces`: the files of their stores), one domain per emotion."""
    from synthfer.train.stargan import save_stargan, train_stargan  # each GAN step imports only its trainer

    training = _gan_training_faces(faces, neutral_only=False)
    domains = training.table["emotion"].map(DOMAINS.index).to_numpy()
    log.info("StarGAN on %d faces; per domain: %s", len(domains), training.table["emotion"].value_counts().to_dict())
    G, history = train_stargan(training.images, domains, stargan, pick_device(device), _progress_dir(model))
    atomic_write_csv(history, losses)
    save_stargan(G.cpu(), stargan, model)


def train_identity_step(
    faces: list[PathLike], identity_gan: IdentityGANConfig, device: str, model: PathLike, losses: PathLike
) -> None:
    """The identity GAN on the neutral GAN-training faces."""
    from synthfer.train.identity_gan import save_identity_gan, train_identity_gan

    training = _gan_training_faces(faces, neutral_only=True)
    log.info("identity GAN on %d neutral faces", len(training.images))
    G, history = train_identity_gan(training.images, identity_gan, pick_device(device), _progress_dir(model))
    atomic_write_csv(history, losses)
    save_identity_gan(G.cpu(), identity_gan, model)


def train_cyclegan_step(
    faces: list[PathLike], cyclegan: CycleGANConfig, device: str, model: PathLike, losses: PathLike
) -> None:
    """One unpaired translator cyclegan.source -> cyclegan.target on the GAN-training faces of those two emotions."""
    from synthfer.train.cyclegan import save_cyclegan, train_cyclegan

    cfg = cyclegan
    training = _gan_training_faces(faces, neutral_only=False)
    emotion = training.table["emotion"].to_numpy()
    source, target = training.images[emotion == cfg.source], training.images[emotion == cfg.target]
    for name, part in ((cfg.source, source), (cfg.target, target)):
        if len(part) == 0:
            raise ValueError(
                f"{cfg.variant}: no {name} faces in roles.gan_train, so {cfg.source} -> {cfg.target} cannot be learned"
            )
    log.info("%s %s -> %s on %d + %d faces", cfg.variant, cfg.source, cfg.target, len(source), len(target))
    G, history = train_cyclegan(source, target, cfg, pick_device(device), _progress_dir(model))
    atomic_write_csv(history, losses)
    save_cyclegan(G.cpu(), cfg, model)
