"""Workflow steps of study 2's protocol: cross-validation with n translated minority faces, and its summary.

Each step takes its rule's names (synthfer.seam binds them); nothing here knows about Snakemake.
"""

from __future__ import annotations

import logging
import os

import pandas as pd
import torch

from synthfer.arms import OVERSAMPLED
from synthfer.data.store import read_one_store
from synthfer.io import atomic_write_csv
from synthfer.minority import MinorityConfig, compare_with_baseline, compare_with_control, cross_validate
from synthfer.runtime import pick_device
from synthfer.train.classifier import ClassifierConfig
from synthfer.translate import PerEmotionTranslator, Translator, load_translator
from synthfer.translators import is_per_emotion

log = logging.getLogger("synthfer")
PathLike = str | os.PathLike
NO_TRANSLATOR = "none"
SUMMARY_METRICS = ["accuracy", "macro_auc_ovr", "macro_f1"]


def minority_translator(name: str, model_paths: list[PathLike], target: str, device: torch.device) -> Translator | None:
    """The translator's Neutral -> target generator only (CycleGAN variants need just that one)."""
    if name == NO_TRANSLATOR:
        return None
    if not is_per_emotion(name):
        return load_translator(name, model_paths, device)
    from synthfer.train.cyclegan import load_cyclegan  # codemap: skip (the generator file is the input)

    generator, cfg = load_cyclegan(model_paths[0], device)
    if cfg.target != target:
        raise ValueError(f"{model_paths[0]} translates into {cfg.target}, not {target}")
    return PerEmotionTranslator(name, {target: generator})


def cross_validate_minority_step(
    faces: list[PathLike],
    mtranslator: str,
    translator_models: list[PathLike],
    n: int,
    minority: MinorityConfig,
    classifier: ClassifierConfig,
    device: str,
    folds: PathLike,
) -> None:
    """One setting of study 2 (`mtranslator`: a translator, none or the oversampling control) with n added
    faces, cross-validated on the study's dataset (the files of its store)."""
    translator_name, model_paths, cfg = mtranslator, translator_models, minority
    dev = pick_device(device)
    store = faces
    faces = read_one_store(store)
    oversample = translator_name == OVERSAMPLED
    translator = None if oversample else minority_translator(translator_name, model_paths, cfg.target, dev)
    what = "repeated real" if oversample else "translated"
    log.info(
        "%s: %d faces, %d %s %s faces added to each fold; %d x %d-fold CV by subject",
        translator_name,
        len(faces.images),
        n if translator or oversample else 0,
        what,
        cfg.target,
        cfg.repeats,
        cfg.folds,
    )
    per_fold = cross_validate(faces, translator, n, cfg, classifier, dev, oversample).assign(
        translator=translator_name, n=n
    )
    atomic_write_csv(per_fold, folds)


def summarize_minority(folds: list[PathLike], target: str, summary: PathLike, gains: PathLike) -> None:
    """Mean and spread over folds per (translator, n), and each against n = 0 on the same folds."""
    fold_paths, out_summary, out_gains = folds, summary, gains
    from synthfer.inference import holm
    from synthfer.metrics import summarize_over_seeds

    folds = pd.concat([pd.read_csv(p) for p in fold_paths], ignore_index=True)
    metrics = [
        *SUMMARY_METRICS,
        f"precision_{target}",
        f"auc_{target}",
        *[c for c in folds.columns if c.startswith("precision_") and not c.endswith(target)],
    ]
    metrics = [m for m in dict.fromkeys(metrics) if m in folds.columns]
    summary = summarize_over_seeds(
        folds.assign(seed=folds["repeat"] * 1000 + folds["fold"]), ["translator", "n"], metrics
    )
    summary = summary.rename(columns=lambda c: c.replace("_n_seeds", "_n_folds"))
    if "at_chance" in folds.columns:  # folds whose classifier never left the chance plateau
        stuck = folds.groupby(["translator", "n"])["at_chance"].sum().astype(int).rename("folds_at_chance")
        summary = summary.merge(stuck.reset_index(), on=["translator", "n"], how="left")
    if "still_improving" in folds.columns:  # folds that max_epochs ended on a new best: undertrained
        capped = folds.groupby(["translator", "n"])["still_improving"].sum().astype(int).rename("folds_still_improving")
        summary = summary.merge(capped.reset_index(), on=["translator", "n"], how="left")
    atomic_write_csv(summary, out_summary)
    compared = [*SUMMARY_METRICS, f"precision_{target}", f"auc_{target}"]
    gains = compare_with_baseline(folds, compared).assign(reference=NO_TRANSLATOR)
    if OVERSAMPLED in set(folds["translator"]):  # the control: translated faces against as many repeated real ones
        gains = pd.concat([gains, compare_with_control(folds, OVERSAMPLED, compared)], ignore_index=True)
    # one family per metric and reference: every setting against no added faces, or every translator against the
    # control; "significant" in the report uses p_holm
    family = [gains["metric"], gains["reference"]]
    gains["n_tests"] = gains.groupby(family)["p_value"].transform(lambda p: int(p.notna().sum()))
    gains["p_holm"] = gains.groupby(family)["p_value"].transform(lambda p: holm(p.to_numpy()))
    atomic_write_csv(gains, out_gains)
