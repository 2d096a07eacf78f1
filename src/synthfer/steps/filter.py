"""Workflow step of the optional FER2013-style filter: drop ambiguous faces, report counts per class.

The step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake.
"""

from __future__ import annotations

import logging
import os

from synthfer.ambiguity import AmbiguityFilterConfig, counts_before_after, out_of_fold_confidence, select_unambiguous
from synthfer.data.store import FaceSet, read_one_store, write_face_set
from synthfer.io import atomic_write_csv
from synthfer.runtime import pick_device

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def filter_ambiguous_faces(
    faces: list[PathLike],
    ambiguity: AmbiguityFilterConfig,
    device: str,
    images: PathLike,
    table: PathLike,
    confidence: PathLike,
    counts: PathLike,
) -> None:
    """The faces of one store (its files) whose label out-of-fold classifiers find likely enough, with every
    face's confidence and the counts per class before and after."""
    store = read_one_store(faces)
    log.info("scoring %d faces with %d-fold out-of-fold classifiers", len(store.images), ambiguity.folds)
    score = out_of_fold_confidence(
        store.images, store.table["emotion"], store.table["subject"], ambiguity, pick_device(device)
    )
    keep = select_unambiguous(store.table["emotion"], score, ambiguity.keep)
    per_class = counts_before_after(store.table["emotion"], keep)
    atomic_write_csv(store.table.assign(confidence=score.round(6), kept=keep), confidence)
    atomic_write_csv(per_class, counts)
    write_face_set(FaceSet(store.images[keep], store.table[keep].reset_index(drop=True)), images, table)
    log.info("kept %d of %d faces; per class:\n%s", int(keep.sum()), len(keep), per_class.to_string(index=False))
