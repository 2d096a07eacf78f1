"""Workflow steps of the classification stage: train on real + k units, predict every test set.

Each step takes its rule's names (synthfer.seam binds them): face stores come as their files, settings as
typed configs. Nothing here knows about Snakemake; each module imports only what its stage needs.
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from synthfer.arms import CONTROLS
from synthfer.data.store import FaceSet, read_one_store, read_stores
from synthfer.experiment import emotions_only, labels_of, parse_k, predictions_table, run_sets, split_part
from synthfer.io import atomic_write_csv
from synthfer.runtime import pick_device
from synthfer.selection import SelectionConfig
from synthfer.train.classifier import (
    ClassifierConfig,
    familiarity,
    load_classifier,
    predict_proba,
    save_classifier,
    train_classifier,
)

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike


def _read_generated(units: list[PathLike]) -> FaceSet | None:
    """The generated units a run uses (the files of their stores), or None for real only."""
    return FaceSet.concat(read_stores(units)) if units else None


def _tagged(table: pd.DataFrame, arm: str, k: str, seed: int, gan_run: int | None) -> pd.DataFrame:
    """`table` with the run it belongs to as its first columns (arm, k, seed, and the GAN run whose faces it
    trained on, empty when none): the report reads them from the file, not from the folder it sits in."""
    run = pd.Series(pd.NA if gan_run is None else gan_run, index=table.index, dtype="Int64")
    return pd.concat(
        [pd.DataFrame({"arm": arm, "k": k, "seed": seed, "gan_run": run}, index=table.index), table], axis=1
    )


def _by_gan_run(
    seeds: list[int], seed_gan_runs: list[int | None], units: list[PathLike], unit_gan_runs: list[int]
) -> list[tuple[int | None, list[int], list[PathLike]]]:
    """The seeds of one (arm, k) grouped by the GAN run they train on, each group with its run's unit files:
    (run, seed positions, unit files), runs in order. Arms without generated faces form one group (run None)
    with all units (a control's budget)."""
    groups = []
    for run in dict.fromkeys(seed_gan_runs):
        positions = [i for i, r in enumerate(seed_gan_runs) if r == run]
        files = units if run is None else [u for u, r in zip(units, unit_gan_runs, strict=True) if r == run]
        groups.append((run, positions, files))
    return groups


def _control(arm: str) -> str | None:
    """The control an arm is (synthfer.arms.CONTROLS), or None: its units are then faces to train on, not a budget."""
    return arm if arm in CONTROLS else None


def train_classifier_step(
    real: list[PathLike],
    units: list[PathLike],
    arm: str,
    k: str,
    seed: int,
    classifier: ClassifierConfig,
    gan_run: int | None,
    device: str,
    model: PathLike,
    history: PathLike,
    preprocess: dict | None = None,
) -> None:
    """One seed's classifier on the real split and k generated units (the files of their stores, of GAN run
    `gan_run`). A control arm uses the units only as its budget. `preprocess`: the faces' preprocessing (config
    `preprocess:`), kept in the model file so that `synthfer predict` prepares new photos exactly as these faces
    were. (Eleven names: one per name of its rule.)"""
    sets = run_sets(read_one_store(real), _read_generated(units), parse_k(k), _control(arm))
    train, val = sets["train"], sets["val"]
    log.info(
        "k=%s seed=%d: %d train faces (%d subjects), %d val faces",
        k,
        seed,
        len(train.images),
        train.table["subject"].nunique(),
        len(val.images),
    )
    trained, epochs = train_classifier(
        train.images, labels_of(train), val.images, labels_of(val), classifier, seed, pick_device(device)
    )
    atomic_write_csv(_tagged(epochs, arm, k, seed, gan_run), history)
    familiar = familiarity(trained, train.images, val.images)  # on the training device, before the move
    save_classifier(trained.cpu(), classifier, model, preprocess, familiar)


def train_classifiers_stacked_step(
    real: list[PathLike],
    units: list[PathLike],
    arm: str,
    k: str,
    seeds: list[int],
    classifier: ClassifierConfig,
    seed_gan_runs: list[int | None],
    unit_gan_runs: list[int],
    device: str,
    model: list[PathLike],
    history: list[PathLike],
    preprocess: dict | None = None,
) -> None:
    """Every seed of one ratio in one job (`experiment.stack_seeds`): stacked models on a GPU, one after another
    on a CPU (synthfer.train.stacked.train_seeds); the same files as one `train_classifier` job per seed,
    `model` and `history` in the order of `seeds`. The seeds that train on one GAN run's units (`seed_gan_runs`,
    `unit_gan_runs`: the run of each seed and of each unit file) are stacked together. (Twelve names: one per
    name of its rule.)"""
    from synthfer.train.stacked import train_seeds

    for gan_run, positions, run_units in _by_gan_run(seeds, seed_gan_runs, units, unit_gan_runs):
        sets = run_sets(read_one_store(real), _read_generated(run_units), parse_k(k), _control(arm))
        train, val = sets["train"], sets["val"]
        mine = [seeds[i] for i in positions]
        log.info(
            "k=%s seeds=%s in one job%s: %d train faces (%d subjects), %d val faces",
            k,
            mine,
            "" if gan_run is None else f" (GAN run {gan_run})",
            len(train.images),
            train.table["subject"].nunique(),
            len(val.images),
        )
        results = train_seeds(
            train.images, labels_of(train), val.images, labels_of(val), classifier, mine, pick_device(device)
        )
        for (trained, epochs), i in zip(results, positions, strict=True):
            atomic_write_csv(_tagged(epochs, arm, k, seeds[i], gan_run), history[i])
            familiar = familiarity(trained, train.images, val.images)
            save_classifier(trained.cpu(), classifier, model[i], preprocess, familiar)


def _test_sets(
    real: list[PathLike], units: list[PathLike], cross: list[PathLike], cross_test: list[str], arm: str, k: str
) -> dict[str, FaceSet]:
    """The faces a run is tested on: its in-distribution test split, the held-out real subjects and every
    cross-database set (`cross`: the files of the stores of the datasets `cross_test`, in that order)."""
    real_faces = read_one_store(real)
    if _control(arm):  # its test sets are the real ones: no copies to make
        sets = {
            "in_distribution": split_part(emotions_only(real_faces), None, "test"),
            "real_test": split_part(emotions_only(real_faces), None, "test"),
        }
    else:
        sets = run_sets(real_faces, _read_generated(units), parse_k(k))
    tests = {"in_distribution": sets["in_distribution"], "real_test": sets["real_test"]}
    tests.update({name: emotions_only(faces) for name, faces in zip(cross_test, read_stores(cross), strict=True)})
    return tests


def _predict(
    model: PathLike, tests: dict[str, FaceSet], run: tuple[str, str, int, int | None], device: str, out: PathLike
) -> None:
    """One model's predictions on every test set, each row tagged with its run (arm, k, seed, GAN run)."""
    trained = load_classifier(model, pick_device(device))
    tables = [predictions_table(faces, predict_proba(trained, faces.images), name) for name, faces in tests.items()]
    table = _tagged(pd.concat(tables, ignore_index=True), *run)
    atomic_write_csv(table, out)
    accuracy = table.assign(ok=table["true"] == table["pred"]).groupby("test_set")["ok"].mean()
    log.info("seed %d: accuracy per test set: %s", run[2], accuracy.round(3).to_dict())


def evaluate_classifier_step(
    model: PathLike,
    real: list[PathLike],
    units: list[PathLike],
    cross: list[PathLike],
    cross_test: list[str],
    arm: str,
    k: str,
    seed: int,
    gan_run: int | None,
    device: str,
    predictions: PathLike,
) -> None:
    """Predictions of one model on the in-distribution sets and on every cross-database set (`cross`: the files
    of the stores of the datasets `cross_test`, in that order), each row tagged with the run (arm, k, seed, GAN
    run). (Eleven names: one per name of its rule.)"""
    tests = _test_sets(real, units, cross, cross_test, arm, k)
    _predict(model, tests, (arm, k, seed, gan_run), device, predictions)


def evaluate_classifiers_stacked_step(
    model: list[PathLike],
    real: list[PathLike],
    units: list[PathLike],
    cross: list[PathLike],
    cross_test: list[str],
    arm: str,
    k: str,
    seeds: list[int],
    seed_gan_runs: list[int | None],
    unit_gan_runs: list[int],
    device: str,
    predictions: list[PathLike],
) -> None:
    """`evaluate_classifier` for every seed of one ratio in one job (`experiment.stack_seeds`): the test faces
    are read once per GAN run; `model` and `predictions` in the order of `seeds`. (Twelve names: one per name of
    its rule.)"""
    for gan_run, positions, run_units in _by_gan_run(seeds, seed_gan_runs, units, unit_gan_runs):
        tests = _test_sets(real, run_units, cross, cross_test, arm, k)
        for i in positions:
            _predict(model[i], tests, (arm, k, seeds[i], gan_run), device, predictions[i])


def expression_fidelity(model_paths: list[PathLike], units: list[PathLike], device: str) -> pd.DataFrame:
    """Share of generated faces that real-only classifiers assign to the intended emotion, per model and emotion
    (`units`: the files of the units' stores)."""
    generated = emotions_only(FaceSet.concat(read_stores(units)))
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
    gan_run: int,
    models: list[PathLike],
    units: list[PathLike],
    real: list[PathLike],
    device: str,
    fidelity: PathLike,
    quality: PathLike,
) -> None:
    """Fidelity, identity preservation, diversity, Frechet distance, KID and precision/recall/density/coverage of
    one translator's generated faces of one GAN run, each measured by every real-only (k = 0) classifier, and the
    distances again in eigenfaces of the real training faces."""
    from synthfer.quality import eigenface_rows, penultimate_features, quality_rows

    atomic_write_csv(
        expression_fidelity(models, units, device).assign(translator=translator, gan_run=gan_run), fidelity
    )
    generated = FaceSet.concat(read_stores(units))
    real_faces = read_one_store(real)
    rows = []
    for path in models:
        model = load_classifier(path, pick_device(device))
        rows += quality_rows(
            penultimate_features(model, generated.images),
            generated.table,
            penultimate_features(model, real_faces.images),
            real_faces.table["emotion"].to_numpy(),
            str(path),
        )
    train = real_faces.table["split"].to_numpy() == "train"
    rows += eigenface_rows(
        real_faces.images[train],
        real_faces.images,
        real_faces.table["emotion"].to_numpy(),
        generated.images,
        generated.table["emotion"].to_numpy(),
    )
    measured = pd.DataFrame(rows).assign(translator=translator, gan_run=gan_run)
    atomic_write_csv(measured, quality)
    log.info(
        "quality (mean over models):\n%s", measured.groupby(["metric", "emotion"])["value"].mean().round(3).to_string()
    )


def select_generated_step(
    models: list[PathLike],
    generated: list[PathLike],
    translator: str,
    unit: int,
    selection: SelectionConfig,
    device: str,
    images: PathLike,
    table: PathLike,
    counts: PathLike,
) -> None:
    """Keep the generated faces of one unit (the files of its store) whose emotion the real-only classifiers
    confirm; `counts` says, per emotion, how many of this translator's unit were kept. (Nine names: one per
    name of its rule.)"""
    from synthfer.data.store import write_face_set
    from synthfer.selection import intended_confidence, select_confident

    faces = read_one_store(generated)
    probabilities = [predict_proba(load_classifier(p, pick_device(device)), faces.images) for p in models]
    kept, kept_counts = select_confident(faces, intended_confidence(faces, probabilities), selection)
    write_face_set(kept, images, table)
    atomic_write_csv(kept_counts.assign(translator=translator, unit=unit), counts)
    log.info("kept per emotion (of %s):\n%s", selection, kept_counts.to_string(index=False))


def balance_selected_step(
    selected: list[PathLike],
    unselected: PathLike,
    unit: int,
    images: PathLike,
    table: PathLike,
    counts: PathLike,
) -> None:
    """The selected faces of one unit (the files of its store) resampled to the unselected unit's counts (its
    table) per split and emotion."""
    from synthfer.data.store import write_face_set
    from synthfer.selection import balance_selected

    balanced, per_cell = balance_selected(read_one_store(selected), pd.read_csv(unselected), seed=unit)
    empty = per_cell[(per_cell["unselected"] > 0) & (per_cell["selected"] == 0)]
    if len(empty):
        log.warning(
            "no selected face to balance with for %s", ", ".join(f"{r.emotion} ({r.split})" for r in empty.itertuples())
        )
    write_face_set(balanced, images, table)
    atomic_write_csv(per_cell, counts)
    log.info("balanced per split and emotion:\n%s", per_cell.to_string(index=False))
