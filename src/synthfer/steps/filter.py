"""Workflow step of the optional FER2013-style filter: drop ambiguous faces, report counts per class.

Called by the Snakemake script and by the tests; nothing here knows about Snakemake.
"""

from __future__ import annotations

import logging
import os

from synthfer.ambiguity import AmbiguityFilterConfig, counts_before_after, out_of_fold_confidence, select_unambiguous
from synthfer.data.store import FaceSet, read_face_set, write_face_set
from synthfer.io import atomic_write_csv
from synthfer.runtime import pick_device

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def filter_ambiguous_faces(
    images: PathLike,
    table: PathLike,
    cfg: AmbiguityFilterConfig,
    device: str,
    out_images: PathLike,
    out_table: PathLike,
    out_confidence: PathLike,
    out_counts: PathLike,
) -> None:
    faces = read_face_set(images, table)
    log.info("scoring %d faces with %d-fold out-of-fold classifiers", len(faces.images), cfg.folds)
    confidence = out_of_fold_confidence(
        faces.images, faces.table["emotion"], faces.table["subject"], cfg, pick_device(device)
    )
    keep = select_unambiguous(faces.table["emotion"], confidence, cfg.keep)
    counts = counts_before_after(faces.table["emotion"], keep)
    atomic_write_csv(faces.table.assign(confidence=confidence.round(6), kept=keep), out_confidence)
    atomic_write_csv(counts, out_counts)
    write_face_set(FaceSet(faces.images[keep], faces.table[keep].reset_index(drop=True)), out_images, out_table)
    log.info("kept %d of %d faces; per class:\n%s", int(keep.sum()), len(keep), counts.to_string(index=False))
