"""One function per workflow step: read inputs, call the library, write outputs atomically.

The Snakemake scripts are a few lines that call these; the tests call them directly. Nothing here
knows about Snakemake.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from synthfer.data.demo import DemoDatabase, write_demo_database
from synthfer.data.loaders import load_records
from synthfer.data.prepare import PrepareConfig, prepare_faces
from synthfer.data.splits import assert_subject_disjoint, split_subjects
from synthfer.data.store import FaceSet, read_store, write_face_set
from synthfer.experiment import emotions_only, labels_of, parse_k, predictions_table, run_sets
from synthfer.generate import UnitSizes, generate_balanced_set
from synthfer.io import atomic_write_csv
from synthfer.labels import DOMAINS, NEUTRAL
from synthfer.runtime import pick_device
from synthfer.train.classifier import ClassifierConfig, load_classifier, predict_proba, save_classifier, train_classifier
from synthfer.train.identity_gan import IdentityGANConfig, load_identity_gan, save_identity_gan, train_identity_gan
from synthfer.train.stargan import StarGANConfig, load_stargan, save_stargan, train_stargan

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def render_demo_dataset(db: DemoDatabase, out_dir: PathLike, threads: int) -> None:
    table = write_demo_database(db, out_dir, threads)
    log.info("rendered %d images of %d subjects to %s", len(table), table["subject"].nunique(), out_dir)


def prepare_dataset(name: str, loader: str, root: PathLike, options: dict, cfg: PrepareConfig, out_images: PathLike, out_table: PathLike, out_rejected: PathLike, threads: int) -> None:
    records = load_records(loader, root, name, options)
    log.info("%s: %d images of %d subjects", name, len(records), records["subject"].nunique())
    images, faces, rejected = prepare_faces(records, cfg, threads)
    atomic_write_csv(rejected, out_rejected)
    write_face_set(FaceSet(images, faces), out_images, out_table)
    log.info("%s: %d faces kept, %d rejected; per emotion: %s", name, len(faces), len(rejected), faces["emotion"].value_counts().to_dict())


def split_real_faces(stores: list[PathLike], val: float | int, test: float | int, seed: int, out_images: PathLike, out_table: PathLike) -> None:
    """Pool the real training datasets and split them by subject."""
    faces = FaceSet.concat([read_store(s) for s in stores])
    faces.table["split"] = split_subjects(faces.table["subject"], val, test, seed)
    assert_subject_disjoint(faces.table)
    write_face_set(faces, out_images, out_table)
    log.info("subjects per split: %s", faces.table.groupby("split")["subject"].nunique().to_dict())


def _gan_training_faces(stores: list[PathLike], neutral_only: bool) -> FaceSet:
    faces = FaceSet.concat([read_store(s) for s in stores])
    if neutral_only:
        faces = faces.select((faces.table["emotion"] == NEUTRAL).to_numpy())
    if len(faces.images) == 0:
        raise ValueError("no faces to train on" + (" (no neutral faces in roles.gan_train)" if neutral_only else ""))
    return faces


def train_stargan_step(stores: list[PathLike], cfg: StarGANConfig, device: str, out_model: PathLike, out_losses: PathLike, work_dir: PathLike) -> None:
    faces = _gan_training_faces(stores, neutral_only=False)
    domains = faces.table["emotion"].map(DOMAINS.index).to_numpy()
    log.info("StarGAN on %d faces; per domain: %s", len(domains), faces.table["emotion"].value_counts().to_dict())
    G, losses = train_stargan(faces.images, domains, cfg, pick_device(device), work_dir)
    atomic_write_csv(losses, out_losses)
    save_stargan(G.cpu(), cfg, out_model)


def train_identity_step(stores: list[PathLike], cfg: IdentityGANConfig, device: str, out_model: PathLike, out_losses: PathLike, work_dir: PathLike) -> None:
    faces = _gan_training_faces(stores, neutral_only=True)
    log.info("identity GAN on %d neutral faces", len(faces.images))
    G, losses = train_identity_gan(faces.images, cfg, pick_device(device), work_dir)
    atomic_write_csv(losses, out_losses)
    save_identity_gan(G.cpu(), cfg, out_model)


def generate_unit(real_table: PathLike, identity_model: PathLike, translator_model: PathLike, unit: int, seed: int, device: str, out_images: PathLike, out_table: PathLike) -> None:
    """One unit of generated faces: as many new identities per split as the real set has subjects."""
    dev = pick_device(device)
    sizes = UnitSizes.from_split_table(pd.read_csv(real_table))
    id_gen, _ = load_identity_gan(identity_model, dev)
    translator, _ = load_stargan(translator_model, dev)
    faces = generate_balanced_set(id_gen, translator, sizes, n_units=1, seed=int(np.random.SeedSequence([seed, unit]).generate_state(1)[0]))
    faces.table["unit"] = unit
    faces.table["subject"] = faces.table["subject"].str.replace("generated/u00_", f"generated/u{unit:02d}_", regex=False)
    assert_subject_disjoint(faces.table)
    write_face_set(faces, out_images, out_table)
    log.info("unit %d: %d identities (%s) x %d domains", unit, sizes.total, asdict(sizes), len(DOMAINS))


def _read_generated(unit_dirs: list[PathLike]) -> FaceSet | None:
    return FaceSet.concat([read_store(d) for d in unit_dirs]) if unit_dirs else None


def train_classifier_step(real_dir: PathLike, unit_dirs: list[PathLike], k: str, seed: int, cfg: ClassifierConfig, device: str, out_model: PathLike, out_history: PathLike) -> None:
    ratio = parse_k(k)
    real = read_store(real_dir)
    generated = _read_generated(unit_dirs)
    sets = run_sets(real, generated, ratio)
    train, val = sets["train"], sets["val"]
    log.info("k=%s seed=%d: %d train faces (%d subjects), %d val faces", k, seed, len(train.images), train.table["subject"].nunique(), len(val.images))
    model, history = train_classifier(train.images, labels_of(train), val.images, labels_of(val), cfg, seed, pick_device(device))
    atomic_write_csv(history, out_history)
    save_classifier(model.cpu(), cfg, out_model)


def evaluate_classifier_step(model_path: PathLike, real_dir: PathLike, unit_dirs: list[PathLike], cross_dirs: dict[str, PathLike], k: str, device: str, out_predictions: PathLike) -> None:
    """Predictions of one model on the in-distribution sets and on every cross-database set."""
    model = load_classifier(model_path, pick_device(device))
    sets = run_sets(read_store(real_dir), _read_generated(unit_dirs), parse_k(k))
    tests = {"in_distribution": sets["in_distribution"], "real_test": sets["real_test"]}
    tests.update({name: emotions_only(read_store(d)) for name, d in cross_dirs.items()})
    tables = [predictions_table(faces, predict_proba(model, faces.images), name) for name, faces in tests.items()]
    predictions = pd.concat(tables, ignore_index=True)
    atomic_write_csv(predictions, out_predictions)
    accuracy = predictions.assign(ok=predictions["true"] == predictions["pred"]).groupby("test_set")["ok"].mean()
    log.info("accuracy per test set: %s", accuracy.round(3).to_dict())


def expression_fidelity(model_paths: list[PathLike], unit_dirs: list[PathLike], device: str) -> pd.DataFrame:
    """Share of generated faces that real-only classifiers assign to the intended emotion, per model and emotion."""
    generated = emotions_only(FaceSet.concat([read_store(d) for d in unit_dirs]))
    rows = []
    for path in model_paths:
        model = load_classifier(path, pick_device(device))
        table = predictions_table(generated, predict_proba(model, generated.images), "generated")
        for emotion, group in table.groupby("true"):
            rows.append({"model": str(path), "emotion": emotion, "n": len(group), "fidelity": float((group["pred"] == emotion).mean())})
    return pd.DataFrame(rows)
