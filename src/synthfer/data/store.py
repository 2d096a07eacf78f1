"""Face stores on disk: `faces.npz` (uint8 images) beside `faces.csv` (one row per image, same order)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthfer.io import atomic_write_csv, load_images, save_images


@dataclass
class FaceSet:
    """Images and their table, row i of the table describing image i."""

    images: np.ndarray
    table: pd.DataFrame

    def __post_init__(self) -> None:
        if len(self.images) != len(self.table):
            raise ValueError(f"{len(self.images)} images but {len(self.table)} table rows")

    def select(self, mask: np.ndarray | pd.Series) -> FaceSet:
        mask = np.asarray(mask, dtype=bool)
        return FaceSet(self.images[mask], self.table[mask].reset_index(drop=True))

    @staticmethod
    def concat(parts: list[FaceSet]) -> FaceSet:
        parts = [p for p in parts if len(p.images)]
        if not parts:
            raise ValueError("no faces to concatenate")
        return FaceSet(
            np.concatenate([p.images for p in parts]), pd.concat([p.table for p in parts], ignore_index=True)
        )


def write_face_set(faces: FaceSet, images_path: str | os.PathLike, table_path: str | os.PathLike) -> None:
    """Write images first and the table last: a table on disk always has its images beside it."""
    save_images(faces.images, images_path)
    atomic_write_csv(faces.table, table_path)


def read_face_set(images_path: str | os.PathLike, table_path: str | os.PathLike) -> FaceSet:
    return FaceSet(load_images(images_path), pd.read_csv(table_path, keep_default_na=False, na_values=[""]))


def read_store(folder: str | os.PathLike) -> FaceSet:
    """A face store folder as written by the prepare and generate rules."""
    folder = Path(folder)
    return read_face_set(folder / "faces.npz", folder / "faces.csv")


STORE_FILES = ("faces.npz", "faces.csv")
"""The files of one face store, as rules name them (so that Snakemake tracks both)."""


def store_folders(files: str | os.PathLike | list[str | os.PathLike]) -> list[Path]:
    """The face store folders that a rule's input files belong to, in order, each once: a rule names a store by
    its files, a step reads it by folder. A folder given as such is kept."""
    paths = [Path(p) for p in (files if isinstance(files, list | tuple) else [files])]
    folders = [p.parent if p.name in STORE_FILES else p for p in paths]
    return list(dict.fromkeys(folders))


def read_stores(files: str | os.PathLike | list[str | os.PathLike]) -> list[FaceSet]:
    """Every face store that `files` belong to (store_folders), in order."""
    return [read_store(folder) for folder in store_folders(files)]


def read_one_store(files: str | os.PathLike | list[str | os.PathLike]) -> FaceSet:
    """The one face store that `files` belong to; several stores or none is a mistake in the rule."""
    folders = store_folders(files)
    if len(folders) != 1:
        raise ValueError(f"expected the files of one face store, got {len(folders)} stores: {folders}")
    return read_store(folders[0])
