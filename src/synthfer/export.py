"""A face store as files anyone can use: ImageFolder trees (`<split>/<emotion>/<file>.png`) plus a table.

What a user shares, inspects or trains another framework on (torchvision's ImageFolder, Keras's
`flow_from_directory`): one PNG per face under its split's and its emotion's folder, and `faces.csv` with each
file's identity, split, source and where it came from. A store whose faces carry a split (the real faces after
`split_subjects`) is written as one tree per split, so that a tree trained on holds no test identity; one tree for
all (`one_tree`) only when asked for.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from PIL import Image

from synthfer.data.store import read_store
from synthfer.io import atomic_write_csv, current_umask

PathLike = str | os.PathLike


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "face"


def export_store(store: PathLike, out_dir: PathLike, one_tree: bool = False) -> pd.DataFrame:
    """Write the store's faces under `out_dir` (which must not exist or be empty) and return the table: under
    `<split>/<emotion>/` when the store has splits (unless `one_tree`), else under `<emotion>/`.

    Written into a staging folder beside `out_dir` and renamed at the end: an interrupted export leaves no
    half tree that looks complete."""
    store, out_dir = Path(store), Path(out_dir)
    if not (store / "faces.npz").is_file() or not (store / "faces.csv").is_file():
        raise FileNotFoundError(
            f"{store}: not a face store (expected faces.npz and faces.csv, as in results/faces/<dataset>/, results/generated/<translator>/gan_run<r>/unit<u>/)"
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(
            f"{out_dir} exists and is not empty: export into a new folder, so that nothing there is overwritten"
        )
    faces = read_store(store)
    table = faces.table.copy()
    splits = table["split"].fillna("").astype(str) if "split" in table else pd.Series("", index=table.index)
    by_split = not one_tree and bool((splits != "").any())
    files = [
        f"{split + '/' if by_split else ''}{row.emotion}/{i:06d}_{_slug(row.subject)}.png"
        for i, (row, split) in enumerate(zip(table.itertuples(), splits, strict=True))
    ]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.exporting-"))
    try:
        os.chmod(staging, 0o777 & ~current_umask())
        for name, image in zip(files, faces.images, strict=True):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(staging / name)
        exported = pd.DataFrame({"file": files, "emotion": table["emotion"], "identity": table["subject"]})
        exported["split"] = table["split"] if "split" in table else ""
        exported["source"] = table["source"] if "source" in table else ""
        for column in table.columns.drop(["emotion", "subject", "split", "source"], errors="ignore"):
            exported[f"origin_{column}" if column in exported else column] = table[column].to_numpy()
        exported["store"] = str(store.resolve())
        exported["store_row"] = range(len(table))
        atomic_write_csv(exported, staging / "faces.csv")
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return exported
