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
