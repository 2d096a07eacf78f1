"""Workflow steps of the data stage: render the demo, prepare faces, split by subject.

Called by the Snakemake scripts (a few lines each) and by the tests; nothing here knows about Snakemake.
Each module imports only what its stage needs, so a job starts fast.
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from synthfer.data.demo import DemoDatabase, write_demo_database
from synthfer.data.loaders import load_records
from synthfer.data.prepare import PrepareConfig, TooManyRejectedError, prepare_faces
from synthfer.data.splits import assert_subject_disjoint, split_subjects
from synthfer.data.store import FaceSet, read_store, write_face_set
from synthfer.io import atomic_write_csv, atomic_write_text
from synthfer.preflight import MinorityPlan, check_design

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def render_demo_dataset(db: DemoDatabase, out_dir: PathLike, threads: int) -> None:
    table = write_demo_database(db, out_dir, threads)
    log.info("rendered %d images of %d subjects to %s", len(table), table["subject"].nunique(), out_dir)


def prepare_dataset(
    name: str,
    loader: str,
    root: PathLike,
    options: dict,
    cfg: PrepareConfig,
    out_images: PathLike,
    out_table: PathLike,
    out_rejected: PathLike,
    threads: int,
    log_rejected: PathLike | None = None,
    labels: PathLike | None = None,
) -> None:
    """`log_rejected`: a copy of the rejected list beside the log, which a failed job keeps (Snakemake deletes
    its outputs): when too many faces are rejected, the user can still read why."""
    records = load_records(loader, root, name, options, labels)
    log.info("%s: %d images of %d subjects", name, len(records), records["subject"].nunique())
    try:
        images, faces, rejected = prepare_faces(records, cfg, threads)
    except TooManyRejectedError as error:
        if log_rejected is None:
            raise
        atomic_write_csv(error.rejected, log_rejected)
        raise TooManyRejectedError(
            f"dataset {name!r}: {error}. Every rejected file and its reason: {log_rejected}", error.rejected
        ) from None
    if log_rejected is not None:
        atomic_write_csv(rejected, log_rejected)
    atomic_write_csv(rejected, out_rejected)
    write_face_set(FaceSet(images, faces), out_images, out_table)
    log.info(
        "%s: %d faces kept, %d rejected; per emotion: %s",
        name,
        len(faces),
        len(rejected),
        faces["emotion"].value_counts().to_dict(),
    )


def split_real_faces(
    stores: list[PathLike],
    val: float | int,
    test: float | int,
    seed: int,
    out_images: PathLike,
    out_table: PathLike,
    stratify: bool = True,
) -> None:
    """Pool the real training datasets and split them by subject (stratified by emotion where possible)."""
    faces = FaceSet.concat([read_store(s) for s in stores])
    emotions = faces.table["emotion"] if stratify else None
    faces.table["split"] = split_subjects(faces.table["subject"], val, test, seed, emotions)
    assert_subject_disjoint(faces.table)
    write_face_set(faces, out_images, out_table)
    log.info("subjects per split: %s", faces.table.groupby("split")["subject"].nunique().to_dict())
    log.info("faces per split and emotion:\n%s", pd.crosstab(faces.table["emotion"], faces.table["split"]).to_string())


def restrict_to_training_subjects(
    store: PathLike, split_table: PathLike, out_images: PathLike, out_table: PathLike
) -> None:
    """The faces of a store whose subjects the real split put in train: what the GANs may learn from when
    the dataset is also a real training set (its val and test subjects stay unseen)."""
    faces = read_store(store)
    split = pd.read_csv(split_table, keep_default_na=False, na_values=[""])
    train = set(split.loc[split["split"] == "train", "subject"])
    kept = faces.select(faces.table["subject"].isin(train).to_numpy())
    write_face_set(kept, out_images, out_table)
    log.info(
        "%s: %d of %d faces (%d of %d subjects) are of training subjects and go to the GANs",
        store,
        len(kept.table),
        len(faces.table),
        kept.table["subject"].nunique(),
        faces.table["subject"].nunique(),
    )


def check_design_step(
    tables: dict[str, PathLike],
    roles: dict[str, list[str]],
    split: dict,
    generating: bool,
    allow_missing_emotions: bool,
    minority: dict | None,
    torchscript: tuple[str, int] | None,
    out: PathLike,
) -> None:
    """The data-dependent checks of the design (preflight.py), before any GAN job; `out` lists what passed."""
    faces = {name: pd.read_csv(path, keep_default_na=False, na_values=[""]) for name, path in tables.items()}
    checked = check_design(
        faces,
        roles,
        split,
        generating,
        allow_missing_emotions,
        MinorityPlan(**minority) if minority else None,
        tuple(torchscript) if torchscript else None,
    )
    for line in checked:
        log.info("ok: %s", line)
    atomic_write_text("".join(f"ok: {line}\n" for line in checked), out)
