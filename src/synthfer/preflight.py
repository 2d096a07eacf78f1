"""Checks of the study design against the prepared face tables, run before any GAN job starts.

The config check at start-up sees only the config. What depends on the data (how many subjects the split
can cut, whether every fold of study 2 has the neutral faces it translates, which emotions a set holds,
whether the user's TorchScript generator loads) is checked here, as soon as the face tables exist and
hours before a GAN would have failed on it. Every problem names the key, its value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from synthfer.data.splits import split_sizes
from synthfer.labels import DOMAINS, EMOTIONS


class DesignError(ValueError):
    """The config and the prepared faces do not fit together; the message names the keys to change."""


def check_split(subjects: int, val: float | int, test: float | int, datasets: list[str]) -> list[str]:
    """The split must leave at least one training subject."""
    n_train, n_val, n_test = split_sizes(subjects, val, test)
    if n_train >= 1:
        return []
    return [
        f"split.val = {val} and split.test = {test} take {n_val} + {n_test} = {n_val + n_test} subjects, but "
        f"{'+'.join(datasets)} have {subjects} after preparation (roles.real_train): lower split.val or split.test "
        f"to leave at least one training subject, or add real training datasets"
    ]


def check_emotions(
    table: pd.DataFrame, role: str, datasets: list[str], needed: tuple[str, ...], allow_missing: bool
) -> list[str]:
    """Every needed emotion in the pooled faces of a role: a set with one emotion reports 100% and means nothing."""
    counts = table["emotion"].value_counts()
    missing = [e for e in needed if counts.get(e, 0) == 0]
    if not missing or allow_missing:
        return []
    held = ", ".join(f"{e} {counts[e]}" for e in needed if counts.get(e, 0)) or "no faces"
    allow = "" if role == "gan_train" else ", or set experiment.allow_missing_emotions: true to run without them"
    return [
        f"roles.{role} ({'+'.join(datasets)}) has no {', '.join(missing)} faces (it holds {held}): "
        f"add a dataset that has them{allow}"
    ]


@dataclass(frozen=True)
class MinorityPlan:
    """What study 2 asks of its dataset: the largest n added, with its fold protocol."""

    dataset: str
    n_added: int
    target: str
    folds: int
    repeats: int
    val_share: float
    seed: int


def check_minority(table: pd.DataFrame, plan: MinorityPlan) -> list[str]:
    """Plan study 2's folds exactly as it will (same seeds): each must have n neutral faces to translate."""
    from synthfer.folds import plan_folds
    from synthfer.settings import MinorityConfig

    cfg = MinorityConfig(
        target=plan.target, folds=plan.folds, repeats=plan.repeats, val_share=plan.val_share, seed=plan.seed
    )
    problems = []
    if not (table["emotion"] == plan.target).any():
        problems.append(
            f"minority.target = {plan.target}: minority.dataset {plan.dataset} has no {plan.target} faces to test on"
        )
    subjects = table.loc[table["emotion"].isin(EMOTIONS), "subject"].nunique()
    if subjects < plan.folds:
        return problems + [
            f"minority.folds = {plan.folds}, but minority.dataset {plan.dataset} has {subjects} subjects with emotional faces: "
            f"lower minority.folds to at most {subjects}"
        ]
    try:
        plan_folds(table, plan.n_added, cfg)
    except ValueError as exc:
        problems.append(f"minority.n_added = {plan.n_added} (minority.dataset {plan.dataset}): {exc}")
    return problems


def check_torchscript(path: str, z_dim: int) -> list[str]:
    """The user's generator loads with torch.jit.load (which runs no Python) and maps (2, z_dim) noise to images."""
    import torch

    try:
        module = torch.jit.load(path, map_location="cpu").eval()
    except Exception as exc:  # torch raises RuntimeError, ValueError or its own types for a damaged file
        return [
            f"generate.torchscript = {path} is not a TorchScript file torch.jit.load can read ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); export your generator with torch.jit.script or torch.jit.trace and torch.jit.save"
        ]
    try:
        with torch.no_grad():
            images = module(torch.randn(2, z_dim))
    except Exception as exc:
        return [
            f"generate.torchscript = {path} fails on noise of shape (2, {z_dim}) (generate.z_dim = {z_dim}): {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ]
    if (
        not isinstance(images, torch.Tensor)
        or images.ndim != 4
        or images.shape[0] != 2
        or images.shape[1] not in (1, 3)
    ):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        return [
            f"generate.torchscript = {path} maps noise (2, {z_dim}) to {shape}; expected images (2, 1 or 3, H, W) in [-1, 1]"
        ]
    return []


def check_design(
    tables: dict[str, pd.DataFrame],
    roles: dict[str, list[str]],
    split: dict,
    generating: bool,
    allow_missing_emotions: bool = False,
    minority: MinorityPlan | None = None,
    torchscript: tuple[str, int] | None = None,
) -> list[str]:
    """Every check at once, so that one run shows every problem; returns what was checked, raises DesignError.

    `tables`: the face table of every dataset a role or study 2 uses. `generating`: study 1 trains on
    generated faces (its GANs need every domain in gan_train).
    """

    def pooled(role: str) -> pd.DataFrame:
        return pd.concat([tables[d] for d in roles[role]], ignore_index=True)

    problems, checked = [], []
    real = pooled("real_train")
    problems += check_split(real["subject"].nunique(), split["val"], split["test"], roles["real_train"])
    n_train, n_val, n_test = split_sizes(real["subject"].nunique(), split["val"], split["test"])
    checked.append(
        f"split: {real['subject'].nunique()} real training subjects -> train {n_train}, val {n_val}, test {n_test}"
    )
    problems += check_emotions(real, "real_train", roles["real_train"], EMOTIONS, allow_missing_emotions)
    for name in roles["cross_test"]:
        problems += check_emotions(tables[name], "cross_test", [name], EMOTIONS, allow_missing_emotions)
    checked.append(f"emotions present in real_train and cross_test (allow_missing_emotions: {allow_missing_emotions})")
    if generating or minority is not None:
        problems += check_emotions(pooled("gan_train"), "gan_train", roles["gan_train"], DOMAINS, False)
        checked.append("every domain (neutral and the 6 emotions) present in gan_train")
    if minority is not None:
        problems += check_minority(tables[minority.dataset], minority)
        checked.append(
            f"study 2: {minority.repeats} x {minority.folds} folds of {minority.dataset}, each with {minority.n_added} neutral faces to translate"
        )
    if torchscript is not None:
        problems += check_torchscript(*torchscript)
        checked.append(f"generate.torchscript {torchscript[0]} loads and maps (2, {torchscript[1]}) noise to images")
    if problems:
        raise DesignError("the study design does not fit the prepared faces:\n  " + "\n  ".join(problems))
    return checked
