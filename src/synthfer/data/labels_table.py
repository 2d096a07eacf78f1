"""A user's labels table (`datasets.<name>.labels`): file -> emotion, subject, frame range, over any layout.

The escape hatch for a copy whose annotations a loader cannot read (a re-annotated MMI, a relabelled
subset, a layout of its own): the table decides which files are used and with which label; the loader's
layout still supplies what it knows about each file (eye landmarks, a view crop, a rotation). The table is
checked when the config is (before any job), every problem named with its row.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from synthfer.data.real_loaders import CLASS_SYNONYMS
from synthfer.labels import DOMAINS

COLUMNS = {
    "file": "the image or video, relative to the dataset's path (or absolute)",
    "emotion": "its label: one of the 7 domains or a common synonym (angry, happy, sad, ...)",
    "subject": "optional: who it shows (default: the layout's subject for the file, else the file itself)",
    "first_frame": "optional, videos: the first frame carrying the label (default: the middle frame)",
    "last_frame": "optional, videos: the last one (default: first_frame)",
}
REQUIRED = ("file", "emotion")
SYNONYMS = CLASS_SYNONYMS  # the words the folder layouts accept


def read_labels_table(path: str | os.PathLike) -> pd.DataFrame:
    """The table, emotions mapped to the canonical names and frames as integers; ValueError names the
    column or the row (as a spreadsheet counts: the header is row 1)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")  # a BOM, as Excel writes
    missing = [c for c in REQUIRED if c not in table.columns]
    unknown = [c for c in table.columns if c not in COLUMNS]
    if missing or unknown:
        raise ValueError(
            f"{path}: {'no ' + ', '.join(missing) + ' column' if missing else ''}{'; ' if missing and unknown else ''}"
            f"{'unknown column ' + ', '.join(unknown) if unknown else ''}; allowed columns: {', '.join(COLUMNS)} (file and emotion required)"
        )
    problems = []
    for row, rec in enumerate(table.to_dict("records"), start=2):
        if not rec["file"].strip():
            problems.append(f"row {row}: empty file")
        if rec["emotion"].strip().lower() not in SYNONYMS:
            problems.append(
                f"row {row}: emotion {rec['emotion']!r} is not one of {', '.join(DOMAINS)} (or angry, happy, sad, ...)"
            )
        frames = [rec.get(c, "").strip() for c in ("first_frame", "last_frame")]
        if any(f and not f.isdigit() for f in frames):
            problems.append(f"row {row}: first_frame and last_frame must be whole numbers >= 0, got {frames}")
        elif all(frames) and int(frames[1]) < int(frames[0]):
            problems.append(f"row {row}: last_frame {frames[1]} is before first_frame {frames[0]}")
    if problems:
        raise ValueError(
            f"{path}: " + "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        )
    table["emotion"] = table["emotion"].str.strip().str.lower().map(SYNONYMS)
    table["row"] = range(2, len(table) + 2)
    return table
