"""Dataset loaders: every dataset, rendered or real, becomes the same record table.

A loader reads a dataset in its own on-disk layout and returns one row per image with the columns in
`RECORD_COLUMNS` (absolute path, subject key, canonical emotion, source, frame, intensity) plus, when
the dataset ships them, eye landmarks. Everything after this point sees only that table.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthfer.data import real_loaders
from synthfer.data.labels_table import read_labels_table
from synthfer.data.records import EYE_COLUMNS, RECORD_COLUMNS, REJECT_COLUMN, VIDEO_SUFFIXES
from synthfer.labels import DOMAINS


class DatasetMissingError(FileNotFoundError):
    """A configured dataset is not where the config says; the message tells where to put it."""


def load_demo(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """The demo layout: `images/*.png` plus `annotations.csv` with subject, emotion and eye centres."""
    table = pd.read_csv(root / "annotations.csv")
    missing = [c for c in DEMO_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"dataset {name!r}: {root / 'annotations.csv'} has no {', '.join(missing)} column; the demo layout's "
            f"annotations.csv has the columns {', '.join(DEMO_COLUMNS)}"
        )
    table["path"] = [str(root / f) for f in table["file"]]
    table["source"] = name
    table["frame"] = 0
    table["subject"] = name + "/" + table["subject"].astype(str)
    return table[[*RECORD_COLUMNS, *EYE_COLUMNS]]


DEMO_COLUMNS = ("file", "subject", "emotion", "intensity", *EYE_COLUMNS)
"""What the demo layout's annotations.csv holds (data/demo.py writes it)."""

LOADERS: dict[str, Callable[[Path, str, dict[str, Any]], pd.DataFrame]] = {
    "demo": load_demo,
    "rafd": real_loaders.load_rafd,
    "oulu": real_loaders.load_oulu,
    "kdef": real_loaders.load_kdef,
    "jaffe": real_loaders.load_jaffe,
    "ckplus": real_loaders.load_ckplus,
    "mmi": real_loaders.load_mmi,
    "affectnet": real_loaders.load_affectnet,
    "fer2013": real_loaders.load_fer2013,
    "folder": real_loaders.load_folder,
}


def load_records(
    loader: str,
    root: str | os.PathLike,
    name: str,
    options: dict[str, Any] | None = None,
    labels: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Read one dataset's records; unknown emotions are dropped, subjects are prefixed by the dataset name.
    `labels`: a user's labels table (labels_table.py) that decides files and labels instead of the layout."""
    if loader not in LOADERS:
        raise ValueError(f"dataset {name!r}: loader {loader!r} unknown; allowed: {', '.join(LOADERS)}")
    root = Path(root)
    if not root.exists():
        raise DatasetMissingError(
            f"dataset {name!r} not found at {root}: put the dataset there or change datasets.{name}.path in config.yaml"
        )
    table = LOADERS[loader](root, name, options or {})
    table["subject"] = [real_loaders.nfc(s) if isinstance(s, str) else s for s in table["subject"]]
    if labels is not None:
        table = labelled_by_table(table, read_labels_table(labels), root, name)
    listed = (
        table[REJECT_COLUMN].fillna("").astype(bool) if REJECT_COLUMN in table else pd.Series(False, index=table.index)
    )
    table = table[table["emotion"].isin(DOMAINS) | listed].reset_index(
        drop=True
    )  # a loader's rejects stay, to be listed
    rejected = (
        table[REJECT_COLUMN].fillna("").astype(bool) if REJECT_COLUMN in table else pd.Series(False, index=table.index)
    )
    if not (~rejected).any():
        detail = (
            f" ({int(rejected.sum())} file(s) rejected, e.g. {table.loc[rejected, 'path'].iloc[0]}: "
            f"{table.loc[rejected, REJECT_COLUMN].iloc[0]})"
            if rejected.any()
            else ""
        )
        raise DatasetMissingError(
            f"dataset {name!r}: no images in the {loader!r} layout under {root}{detail}; check datasets.{name}.path "
            "and loader"
        )
    table["intensity"] = table["intensity"].astype(float) if "intensity" in table else np.nan
    return table


def labelled_by_table(layout: pd.DataFrame, labels: pd.DataFrame, root: Path, name: str) -> pd.DataFrame:
    """Records from a labels table: its files, labels, subjects and frames; what the layout knows of a file
    (eyes, view crop, rotation, `aligned`) is kept. A listed file that does not exist is rejected with its row."""
    known = layout.drop_duplicates("path").set_index("path") if len(layout) else pd.DataFrame()
    extras = [c for c in layout.columns if c not in ("path", "subject", "emotion", "frame", REJECT_COLUMN)]
    rows = []
    for rec in labels.to_dict("records"):
        path = _on_disk(Path(rec["file"]) if Path(rec["file"]).is_absolute() else root / rec["file"])
        base = known.loc[str(path)].to_dict() if str(path) in known.index else {}
        subject = f"{name}/{rec['subject']}" if rec.get("subject") else base.get("subject", f"{name}/{rec['file']}")
        subject = real_loaders.nfc(subject)
        row = {
            **{c: base.get(c) for c in extras},
            "path": str(path),
            "subject": subject,
            "emotion": rec["emotion"],
            "source": name,
        }
        if not path.is_file():
            rows.append(
                {**row, "frame": 0, "emotion": None, REJECT_COLUMN: f"labels table row {rec['row']}: file not found"}
            )
            continue
        for frame in _frames(path, rec):
            rows.append({**row, "frame": frame, REJECT_COLUMN: None})
    return pd.DataFrame(rows, columns=list(dict.fromkeys([*RECORD_COLUMNS, *EYE_COLUMNS, *extras, REJECT_COLUMN])))


def _on_disk(path: Path) -> Path:
    """`path` as the disk spells it: a table written on one system may compose accents (NFC) where the file name
    decomposes them (NFD, as macOS writes names), or the other way round."""
    if path.exists():
        return path
    for form in ("NFC", "NFD"):
        other = Path(unicodedata.normalize(form, str(path)))
        if other.exists():
            return other
    return path


def _frames(path: Path, rec: dict) -> list[int]:
    """A table row's frames: its range for a video (the middle frame when none is given), 0 for an image."""
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        return [0]
    first, last = rec.get("first_frame", ""), rec.get("last_frame", "")
    if first:
        return list(range(int(first), int(last or first) + 1))
    return [max(0, real_loaders._video_length(path) // 2)]
