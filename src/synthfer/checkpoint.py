"""Model files: the stage config that rebuilds a network plus its weights, loaded without running code."""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

import torch

from synthfer.io import atomic_write


def atomic_save_torch(obj: Any, path: str | os.PathLike) -> None:
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def load_torch(path: str | os.PathLike) -> Any:
    """Load a checkpoint without ever running code from it. A file that holds code to run (a pickled object) is
    refused, and a truncated or foreign one named, each in one line (ValueError)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as error:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        raise ValueError(
            f"{path}: refused: it holds more than tensors, Python objects that loading would have to run (nothing "
            f"ran); only weights are read (weights_only=True): {first}"
        ) from None
    except (RuntimeError, OSError, EOFError, zipfile.BadZipFile) as error:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        raise ValueError(
            f"{path}: not a readable PyTorch file: truncated, damaged or of another format "
            f"({type(error).__name__}: {first})"
        ) from None


C = TypeVar("C")


def save_model(model: torch.nn.Module, cfg: Any, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> None:
    """A model file: the stage config that rebuilds the network, its weights, and what made it (commit,
    package versions), so a model found on disk can be traced back. `extra`: what a user of the file needs
    besides (a classifier's class names and preprocessing)."""
    from synthfer.provenance import git_commit, versions  # codemap: skip (records, computes nothing)

    made_by = {"commit": git_commit(), "versions": versions()}
    atomic_save_torch(
        {"config": asdict(cfg), "model": model.state_dict(), "provenance": made_by, **(extra or {})}, path
    )


def load_model(
    path: str | os.PathLike, config_type: type[C], build: Callable[[C], torch.nn.Module], device: torch.device
) -> tuple[Any, C]:
    """Rebuild a network saved by `save_model` (weights only: nothing in the file can run)."""
    ckpt = load_torch(path)
    cfg = config_type(**ckpt["config"])
    model = build(cfg)
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), cfg
