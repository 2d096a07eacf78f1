"""Workflow step of the memorisation check: does a GAN run copy its training faces?

The step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake. It needs no
classifier, so that editing the classifier code never reruns it.
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from synthfer.data.store import FaceSet, read_stores
from synthfer.io import atomic_write_csv

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def check_memorisation_step(
    translator: str, gan_run: int, units: list[PathLike], gan_faces: list[PathLike], table: PathLike, figure: PathLike
) -> None:
    """Each generated face of one translator's GAN run against its nearest GAN-training face (`gan_faces`: the
    files of the stores the GANs learned from): memorisation rows in quality.csv's columns, and the closest pairs
    drawn."""
    from synthfer.memorisation import closest_pairs, memorisation
    from synthfer.plots import save_closest_pairs

    generated = FaceSet.concat(read_stores(units))
    training = FaceSet.concat(read_stores(gan_faces))
    metrics, distances, indices = memorisation(generated.images, training.images, training.table["subject"].to_numpy())
    rows = [{"model": "pixels", "metric": name, "emotion": "all", "value": v} for name, v in metrics.items()]
    atomic_write_csv(pd.DataFrame(rows).assign(translator=translator, gan_run=gan_run), table)
    pairs = closest_pairs(distances, indices)
    save_closest_pairs(generated.images, training.images, pairs, metrics["near_copy_threshold"], figure)
    log.info(
        "%s GAN run %d: %d generated faces against %d GAN-training faces: %s",
        translator,
        gan_run,
        len(generated.images),
        len(training.images),
        {k: round(v, 4) for k, v in metrics.items()},
    )
