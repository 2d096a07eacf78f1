"""What one classifier run trains and tests on: real faces + k units of generated faces.

k = 0 is the real-only experiment, k = "syn" the synthetic-only one (one unit, no real faces). The
in-distribution test set follows the paper: the held-out real subjects plus the held-out identities of
the units that were added. `real_test` keeps only the real held-out subjects, the same for every k.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthfer.arms import CONTROLS, STEP_MATCHED, SYNTHETIC_ONLY
from synthfer.data.store import FaceSet
from synthfer.labels import EMOTIONS


def parse_k(k: str | int) -> int | str:
    """'3' -> 3, 'syn' -> 'syn'; anything else is an error naming the allowed forms."""
    if str(k) == SYNTHETIC_ONLY:
        return SYNTHETIC_ONLY
    if str(k).isdigit():
        return int(k)
    raise ValueError(f"ratio k must be a non-negative integer or {SYNTHETIC_ONLY!r}, got {k!r}")


def emotions_only(faces: FaceSet) -> FaceSet:
    """Drop neutral (a translation source, not a class)."""
    return faces.select(faces.table["emotion"].isin(EMOTIONS).to_numpy())


def _units(generated: FaceSet | None, k: int | str) -> FaceSet | None:
    n_units = 1 if k == SYNTHETIC_ONLY else int(k)
    if n_units == 0:
        return None
    if generated is None:
        raise ValueError(f"k={k} needs generated faces but none were given")
    available = int(generated.table["unit"].max()) + 1
    if n_units > available:
        raise ValueError(
            f"k={k} needs {n_units} generated units but only {available} were generated; raise generate.units"
        )
    return generated.select((generated.table["unit"] < n_units).to_numpy())


def split_part(real: FaceSet | None, generated: FaceSet | None, split: str) -> FaceSet:
    parts = [p.select((p.table["split"] == split).to_numpy()) for p in (real, generated) if p is not None]
    return FaceSet.concat(parts)


def run_sets(real: FaceSet, generated: FaceSet | None, k: int | str, control: str | None = None) -> dict[str, FaceSet]:
    """train / val / in_distribution / real_test for one ratio, emotions only; for a control arm, the real
    faces with the training budget of k units."""
    real = emotions_only(real)
    gen = _units(emotions_only(generated) if generated is not None else None, k)
    if control is not None:
        return control_sets(real, gen, control)
    base = None if k == SYNTHETIC_ONLY else real
    return {
        "train": split_part(base, gen, "train"),
        "val": split_part(base, gen, "val"),
        "in_distribution": split_part(base, gen, "test"),
        "real_test": split_part(real, None, "test"),
    }


def budget_sources(n_real: int, n_added: int, rng: np.random.Generator) -> np.ndarray:
    """Which real training faces fill `n_added` extra samples: every face equally often, the remainder drawn
    without replacement, so that no face counts more than once more than another."""
    whole, rest = divmod(n_added, n_real)
    return np.concatenate([np.tile(np.arange(n_real), whole), np.sort(rng.choice(n_real, rest, replace=False))]).astype(
        np.int64
    )


CONTROL_SEED = 0
"""Draws a control arm's extra samples: the same for every classifier seed, as the generated units of arm k
are the same for all its seeds, so that both arms' spread over seeds is the training's alone."""


def control_sets(real: FaceSet, generated: FaceSet | None, control: str) -> dict[str, FaceSet]:
    """A control arm's sets: its training part is the real training faces plus as many extra samples as the
    generated units' training part holds (repeats for real-steps, augmented copies for real-augmented); its
    validation and test parts are the real ones."""
    if control not in CONTROLS:
        raise ValueError(f"unknown control arm {control!r}; controls: {', '.join(CONTROLS)}")
    if generated is None:
        raise ValueError(f"the control arm {control} needs the generated units of its k to know its budget (k >= 1)")
    train = split_part(real, None, "train")
    n_added = int((generated.table["split"] == "train").sum())
    sources = budget_sources(len(train.images), n_added, np.random.default_rng(CONTROL_SEED))
    table = train.table.iloc[sources].reset_index(drop=True).assign(source=control)
    if control == STEP_MATCHED:
        added = FaceSet(train.images[sources], table)
    else:
        from synthfer.augment import augmented_copies  # torch: only a job that trains needs it

        added = FaceSet(augmented_copies(train.images, sources, CONTROL_SEED), table)
    test = split_part(real, None, "test")
    return {
        "train": FaceSet.concat([train, added]),
        "val": split_part(real, None, "val"),
        "in_distribution": test,
        "real_test": test,
    }


def labels_of(faces: FaceSet) -> np.ndarray:
    return faces.table["emotion"].map({e: i for i, e in enumerate(EMOTIONS)}).to_numpy(np.int64)


def predictions_table(faces: FaceSet, proba: np.ndarray, test_set: str) -> pd.DataFrame:
    """One row per test face: who, the image file (and video frame) it came from, true and predicted emotion,
    and every class probability. Generated faces have no file: their subject and emotion identify them."""
    n = len(faces.table)
    table = pd.DataFrame(
        {
            "test_set": test_set,
            "subject": faces.table["subject"].to_numpy(),
            "source": faces.table["source"].to_numpy(),
            "path": faces.table["path"].fillna("").to_numpy()
            if "path" in faces.table
            else np.full(n, "", dtype=object),
            "frame": faces.table["frame"].fillna(0).astype(int).to_numpy()
            if "frame" in faces.table
            else np.zeros(n, int),
            "true": faces.table["emotion"].to_numpy(),
            "pred": np.asarray(EMOTIONS)[proba.argmax(1)] if len(proba) else [],
        }
    )
    for i, e in enumerate(EMOTIONS):
        table[f"p_{e}"] = proba[:, i] if len(proba) else []
    return table
