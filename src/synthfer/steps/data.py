"""Workflow steps of the data stage: fetch and prepare faces, check the design, split by subject.

Each step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake. Each step
imports what only it needs inside itself: a job starts fast, and editing one step's code reruns that step's
jobs only (synthfer.codemap reads these imports).
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from synthfer.data.store import FaceSet, read_one_store, read_stores, write_face_set
from synthfer.io import atomic_write_csv, atomic_write_text
from synthfer.settings import PrepareConfig, UnpackLimits

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def fetch_dataset(
    dataset: str,
    raw: PathLike,
    limits: UnpackLimits,
    url: str | None = None,
    sha256: str | None = None,
    archive: list[PathLike] | None = None,
) -> None:
    """Download `url` or unpack the local `archive` (the rule's input: a list of none or one file) into `raw`."""
    from synthfer.data.acquire import acquire

    acquire(dataset, raw, url=url, sha256=sha256, archive=str(archive[0]) if archive else None, limits=limits)


def prepare_dataset(
    dataset: str,
    loader: str,
    raw: PathLike,
    options: dict,
    preprocess: PrepareConfig,
    images: PathLike,
    table: PathLike,
    rejected: PathLike,
    threads: int,
    rejected_copy: PathLike | None = None,
    labels: list[PathLike] | None = None,
) -> None:
    """One dataset's face store from its raw files (`raw`, and the `labels` table when the loader needs one).
    `rejected_copy`: a copy of the rejected list beside the log, which a failed job keeps (Snakemake deletes its
    outputs): when too many faces are rejected, the user can still read why. (Eleven names: one per name of
    its rule.)"""
    labels_file = labels[0] if labels else None
    from synthfer.data.loaders import load_records
    from synthfer.data.prepare import TooManyRejectedError, prepare_faces

    records = load_records(loader, raw, dataset, options, labels_file)
    log.info("%s: %d images of %d subjects", dataset, len(records), records["subject"].nunique())
    try:
        crops, faces, rejected_faces = prepare_faces(records, preprocess, threads)
    except TooManyRejectedError as error:
        if rejected_copy is None:
            raise
        atomic_write_csv(error.rejected, rejected_copy)
        raise TooManyRejectedError(
            f"dataset {dataset!r}: {error}. Every rejected file and its reason: {rejected_copy}", error.rejected
        ) from None
    if rejected_copy is not None:
        atomic_write_csv(rejected_faces, rejected_copy)
    atomic_write_csv(rejected_faces, rejected)
    write_face_set(FaceSet(crops, faces), images, table)
    log.info(
        "%s: %d faces kept, %d rejected; per emotion: %s",
        dataset,
        len(faces),
        len(rejected_faces),
        faces["emotion"].value_counts().to_dict(),
    )


def split_real_faces(
    faces: list[PathLike],
    val: float | int,
    test: float | int,
    seed: int,
    images: PathLike,
    table: PathLike,
    stratify: bool = True,
    allow_duplicates: bool = False,
) -> None:
    """Pool the real training datasets (the files of their face stores) and split them by subject (stratified by
    emotion where possible). The same photo under two subjects is reported, and a split that puts its copies in
    two splits is refused unless `allow_duplicates`."""
    from synthfer.data.splits import assert_subject_disjoint, cross_subject_copies, split_subjects

    pooled = FaceSet.concat(read_stores(faces))
    emotions = pooled.table["emotion"] if stratify else None
    pooled.table["split"] = split_subjects(pooled.table["subject"], val, test, seed, emotions)
    assert_subject_disjoint(pooled.table)
    _check_copies(pooled.table, cross_subject_copies(pooled.images, pooled.table["subject"]), allow_duplicates)
    write_face_set(pooled, images, table)
    log.info("subjects per split: %s", pooled.table.groupby("split")["subject"].nunique().to_dict())
    log.info(
        "faces per split and emotion:\n%s", pd.crosstab(pooled.table["emotion"], pooled.table["split"]).to_string()
    )


def _check_copies(table: pd.DataFrame, copies: list, allowed: bool) -> None:
    """Log every photo filed under several subjects; raise when its copies sit in several splits, unless allowed."""
    leaking = []
    for rows in copies:
        found = table.iloc[rows]
        where = ", ".join(f"{r.path} ({r.subject}, {r.split})" for r in found.itertuples())
        log.warning("the same face under %d subjects: %s", found["subject"].nunique(), where)
        if found["split"].nunique() > 1:
            leaking.append(where)
    if leaking and not allowed:
        raise ValueError(
            f"{len(leaking)} photo(s) appear under two subjects that the split puts in different splits, a "
            f"train/test leak: {'; '.join(leaking[:5])}{' ...' if len(leaking) > 5 else ''}. Remove one copy from "
            "the dataset, or give both files the same subject (a labels table), or set split.allow_duplicates: true "
            "to split anyway"
        )


def restrict_to_training_subjects(faces: list[PathLike], split: PathLike, images: PathLike, table: PathLike) -> None:
    """The faces of a store (its files) whose subjects the real split (its table) put in train: what the GANs
    may learn from when the dataset is also a real training set (its val and test subjects stay unseen)."""
    store = read_one_store(faces)
    split_table = pd.read_csv(split, keep_default_na=False, na_values=[""])
    train = set(split_table.loc[split_table["split"] == "train", "subject"])
    kept = store.select(store.table["subject"].isin(train).to_numpy())
    write_face_set(kept, images, table)
    log.info(
        "%s: %d of %d faces (%d of %d subjects) are of training subjects and go to the GANs",
        faces[0],
        len(kept.table),
        len(store.table),
        kept.table["subject"].nunique(),
        store.table["subject"].nunique(),
    )


def check_design_step(
    tables: list[PathLike],
    datasets: list[str],
    roles: dict[str, list[str]],
    split: dict,
    generating: bool,
    allow_missing_emotions: bool,
    minority: dict | None,
    torchscript: tuple[str, int] | None,
    checked: PathLike,
) -> None:
    """The data-dependent checks of the design (preflight.py), before any GAN job: `tables` are the face tables
    of `datasets`, in that order; `checked` lists what passed. (Nine names: one per name of its rule.)"""
    from synthfer.preflight import MinorityPlan, check_design

    faces = {
        name: pd.read_csv(path, keep_default_na=False, na_values=[""])
        for name, path in zip(datasets, tables, strict=True)
    }
    passed = check_design(
        faces,
        roles,
        split,
        generating,
        allow_missing_emotions,
        MinorityPlan(**minority) if minority else None,
        tuple(torchscript) if torchscript else None,
    )
    for line in passed:
        log.info("ok: %s", line)
    atomic_write_text("".join(f"ok: {line}\n" for line in passed), checked)
