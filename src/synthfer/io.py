"""File writing that never leaves a half-written output that looks complete."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def current_umask() -> int:
    """The process's umask (read from /proc where it can be: setting it to read it is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write through a temporary file in the same folder, then rename over the target.

    The file gets the mode a plain `open(path, "w")` would give (0666 less the umask): `mkstemp` makes it
    0600, which on shared storage would hide every result from the group."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_csv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def atomic_write_text(text: str, path: str | os.PathLike) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    atomic_write(path, write)


def atomic_write_json(data: Any, path: str | os.PathLike) -> None:
    atomic_write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", path)


def save_images(images: np.ndarray, path: str | os.PathLike) -> None:
    """Store a uint8 image stack (N, H, W) as one compressed array, read back in one go for training."""
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W), got {images.dtype} {images.shape}")

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, images=images)

    atomic_write(path, write)


def load_images(path: str | os.PathLike) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        return data["images"]
