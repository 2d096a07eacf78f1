"""Workflow steps of the classification stage: train on real + k units, predict every test set.

Called by the Snakemake scripts (a few lines each) and by the tests; nothing here knows about Snakemake.
Each module imports only what its stage needs, so a job starts fast.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import pandas as pd

from synthfer.arms import CONTROLS
from synthfer.data.store import FaceSet, read_store
from synthfer.experiment import emotions_only, labels_of, parse_k, predictions_table, run_sets, split_part
from synthfer.io import atomic_write_csv
from synthfer.runtime import pick_device
from synthfer.train.classifier import (
    ClassifierConfig,
    load_classifier,
    predict_proba,
    save_classifier,
    train_classifier,
)

if TYPE_CHECKING:
    from synthfer.selection import SelectionConfig

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def _read_generated(unit_dirs: list[PathLike]) -> FaceSet | None:
    return FaceSet.concat([read_store(d) for d in unit_dirs]) if unit_dirs else None


def _control(arm: str) -> str | None:
    """The control an arm is (synthfer.arms.CONTROLS), or None: its units are then faces to train on, not a budget."""
    return arm if arm in CONTROLS else None


def train_classifier_step(
    real_dir: PathLike,
    unit_dirs: list[PathLike],
    k: str,
    seed: int,
    cfg: ClassifierConfig,
    device: str,
    out_model: PathLike,
    out_history: PathLike,
    preprocess: dict | None = None,
    arm: str = "real",
) -> None:
    """One seed's classifier. `preprocess`: the faces' preprocessing (config `preprocess:`), kept in the model
    file so that `synthfer predict` prepares new photos exactly as these faces were; `arm`: a control arm uses
    the units only as its budget (ten parameters: the eight a rule binds plus these)."""
    ratio = parse_k(k)
    real = read_store(real_dir)
    generated = _read_generated(unit_dirs)
    sets = run_sets(real, generated, ratio, _control(arm))
    train, val = sets["train"], sets["val"]
    log.info(
        "k=%s seed=%d: %d train faces (%d subjects), %d val faces",
        k,
        seed,
        len(train.images),
        train.table["subject"].nunique(),
        len(val.images),
    )
    model, history = train_classifier(
        train.images, labels_of(train), val.images, labels_of(val), cfg, seed, pick_device(device)
    )
    atomic_write_csv(history, out_history)
    save_classifier(model.cpu(), cfg, out_model, preprocess)


def train_classifiers_stacked_step(
    real_dir: PathLike,
    unit_dirs: list[PathLike],
    k: str,
    seeds: list[int],
    cfg: ClassifierConfig,
    device: str,
    out_models: list[PathLike],
    out_histories: list[PathLike],
    preprocess: dict | None = None,
    arm: str = "real",
) -> None:
    """Every seed of one ratio in one job, as stacked models (`experiment.stack_seeds`); the same files as
    one `train_classifier` job per seed."""
    from synthfer.train.stacked import train_classifiers_stacked

    sets = run_sets(read_store(real_dir), _read_generated(unit_dirs), parse_k(k), _control(arm))
    train, val = sets["train"], sets["val"]
    log.info(
        "k=%s seeds=%s stacked: %d train faces (%d subjects), %d val faces",
        k,
        seeds,
        len(train.images),
        train.table["subject"].nunique(),
        len(val.images),
    )
    results = train_classifiers_stacked(
        train.images, labels_of(train), val.images, labels_of(val), cfg, seeds, pick_device(device)
    )
    for (model, history), out_model, out_history in zip(results, out_models, out_histories, strict=True):
        atomic_write_csv(history, out_history)
        save_classifier(model.cpu(), cfg, out_model, preprocess)


def evaluate_classifier_step(
    model_path: PathLike,
    real_dir: PathLike,
    unit_dirs: list[PathLike],
    cross_dirs: dict[str, PathLike],
    k: str,
    device: str,
    out_predictions: PathLike,
    arm: str = "real",
) -> None:
    """Predictions of one model on the in-distribution sets and on every cross-database set."""
    model = load_classifier(model_path, pick_device(device))
    real = read_store(real_dir)
    if _control(arm):  # its test sets are the real ones: no copies to make
        sets = {
            "in_distribution": split_part(emotions_only(real), None, "test"),
            "real_test": split_part(emotions_only(real), None, "test"),
        }
    else:
        sets = run_sets(real, _read_generated(unit_dirs), parse_k(k))
    tests = {"in_distribution": sets["in_distribution"], "real_test": sets["real_test"]}
    tests.update({name: emotions_only(read_store(d)) for name, d in cross_dirs.items()})
    tables = [predictions_table(faces, predict_proba(model, faces.images), name) for name, faces in tests.items()]
    predictions = pd.concat(tables, ignore_index=True)
    atomic_write_csv(predictions, out_predictions)
    accuracy = predictions.assign(ok=predictions["true"] == predictions["pred"]).groupby("test_set")["ok"].mean()
    log.info("accuracy per test set: %s", accuracy.round(3).to_dict())


def expression_fidelity(model_paths: list[PathLike], unit_dirs: list[PathLike], device: str) -> pd.DataFrame:
    """Share of generated faces that real-only classifiers assign to the intended emotion, per model and emotion."""
    generated = emotions_only(FaceSet.concat([read_store(d) for d in unit_dirs]))
    rows = []
    for path in model_paths:
        model = load_classifier(path, pick_device(device))
        table = predictions_table(generated, predict_proba(model, generated.images), "generated")
        for emotion, group in table.groupby("true"):
            rows.append(
                {
                    "model": str(path),
                    "emotion": emotion,
                    "n": len(group),
                    "fidelity": float((group["pred"] == emotion).mean()),
                }
            )
    return pd.DataFrame(rows)


def evaluate_generated_faces(
    translator: str,
    model_paths: list[PathLike],
    unit_dirs: list[PathLike],
    real_dir: PathLike,
    device: str,
    out_fidelity: PathLike,
    out_quality: PathLike,
) -> None:
    """Fidelity, identity preservation, diversity and Frechet distance of one translator's generated faces,
    each measured by every real-only (k = 0) classifier."""
    from synthfer.quality import penultimate_features, quality_rows

    atomic_write_csv(expression_fidelity(model_paths, unit_dirs, device).assign(translator=translator), out_fidelity)
    generated = FaceSet.concat([read_store(d) for d in unit_dirs])
    real = read_store(real_dir)
    rows = []
    for path in model_paths:
        model = load_classifier(path, pick_device(device))
        rows += quality_rows(
            penultimate_features(model, generated.images),
            generated.table,
            penultimate_features(model, real.images),
            real.table["emotion"].to_numpy(),
            str(path),
        )
    quality = pd.DataFrame(rows).assign(translator=translator)
    atomic_write_csv(quality, out_quality)
    log.info(
        "quality (mean over models):\n%s", quality.groupby(["metric", "emotion"])["value"].mean().round(3).to_string()
    )


def select_generated_step(
    model_paths: list[PathLike],
    unit_dir: PathLike,
    cfg: SelectionConfig,
    device: str,
    out_images: PathLike,
    out_table: PathLike,
    out_counts: PathLike,
) -> None:
    """Keep the generated faces of one unit whose emotion the real-only classifiers confirm."""
    from synthfer.data.store import write_face_set
    from synthfer.selection import intended_confidence, select_confident

    faces = read_store(unit_dir)
    probabilities = [predict_proba(load_classifier(p, pick_device(device)), faces.images) for p in model_paths]
    kept, counts = select_confident(faces, intended_confidence(faces, probabilities), cfg)
    write_face_set(kept, out_images, out_table)
    atomic_write_csv(counts, out_counts)
    log.info("kept per emotion (of %s):\n%s", cfg, counts.to_string(index=False))


def balance_selected_step(
    selected_dir: PathLike,
    unselected_table: PathLike,
    unit: int,
    out_images: PathLike,
    out_table: PathLike,
    out_counts: PathLike,
) -> None:
    """The selected faces of one unit resampled to the unselected unit's counts per split and emotion."""
    from synthfer.data.store import write_face_set
    from synthfer.selection import balance_selected

    balanced, counts = balance_selected(read_store(selected_dir), pd.read_csv(unselected_table), seed=unit)
    empty = counts[(counts["unselected"] > 0) & (counts["selected"] == 0)]
    if len(empty):
        log.warning(
            "no selected face to balance with for %s", ", ".join(f"{r.emotion} ({r.split})" for r in empty.itertuples())
        )
    write_face_set(balanced, out_images, out_table)
    atomic_write_csv(counts, out_counts)
    log.info("balanced per split and emotion:\n%s", counts.to_string(index=False))
