"""File writing that never leaves a half-written output that looks complete."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import zipfile
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
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, Exception) and _disk_full(error, path.parent):
            raise OSError(
                errno.ENOSPC,
                f"no space left on the disk holding {path} ({shutil.disk_usage(path.parent).free // 2**20} MiB free): "
                f"nothing was written there; free some space and run again ({type(error).__name__}: {error})",
            ) from error
        raise


FULL_BELOW = 2**20
"""Free bytes under which a failed write is put down to a full disk: libraries that write through their own C
code (torch.save's zip writer: 'unexpected pos ...') report it in words of their own."""


def _disk_full(error: Exception, folder: Path) -> bool:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW
    except OSError:
        return False


class DamagedFileError(ValueError):
    """A file the workflow made earlier cannot be read back: truncated, or overwritten by something else."""


def damaged(path: str | os.PathLike, error: Exception) -> DamagedFileError:
    """The error for `path` that did not read (`error`): which file, what is wrong, how to get it made again."""
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return DamagedFileError(
        f"{path} is damaged or incomplete ({type(error).__name__}: {first}); delete it and run the workflow again, "
        f"which makes it anew (or ask for it alone: snakemake {path})"
    )


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
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["images"]
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as error:
        raise damaged(path, error) from None
