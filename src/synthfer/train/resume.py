"""Training that survives clusters: periodic and on-signal checkpoints, and resuming from them.

A GAN job can run for a day and be stopped by a time limit (SLURM sends SIGTERM, or SIGUSR1 ahead of
time when asked with `--signal`). The loop checkpoints every `every` iterations and when signalled;
a restarted job resumes from the last good checkpoint and continues as if never stopped: models,
optimisers, EMA, every random state and the iteration are restored. Checkpoints live in the job's
work folder, which is not a declared output, so Snakemake does not delete them when the job fails.
They are loaded with `weights_only=True`: a checkpoint file can never run code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import signal
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthfer.checkpoint import atomic_save_torch, load_torch

log = logging.getLogger("synthfer")

CHECKPOINT = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"
CHECKPOINT_FORMAT = 2
"""Bumped when the layout of a checkpoint changes: one of another layout is not resumed (it is part of run_key)."""
IGNORED_FIELDS = frozenset({"checkpoint_every", "log_every", "sample_every"})
"""Config fields that do not change the trained weights: a checkpoint made under other values still resumes."""


class TrainingInterrupted(RuntimeError):
    """SIGTERM arrived: the state is checkpointed and the job stops, to be resumed by a retry."""


def random_state(generator: torch.Generator) -> dict[str, Any]:
    """Every random state a training loop draws from, as tensors and plain values (weights_only-safe)."""
    np_state = np.random.get_state()
    state = {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "gauss": float(np_state[4]),
        },
        "python": [list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(generator: torch.Generator, state: dict[str, Any]) -> None:
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    keys, gauss = state["python"]
    random.setstate((3, tuple(int(k) for k in keys), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def data_fingerprint(*arrays: np.ndarray) -> str:
    """Short hash of the training data, so a checkpoint is never resumed on other data."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def run_key(cfg: Any, fingerprint: str) -> dict[str, Any]:
    """What must match for a checkpoint to be resumed: the config (minus logging cadence) and the data."""
    return {
        "format": CHECKPOINT_FORMAT,
        "config": {k: v for k, v in asdict(cfg).items() if k not in IGNORED_FIELDS},
        "data": fingerprint,
    }


class Checkpointer:
    """Writes `checkpoint.pt` atomically (keeping the one before as `checkpoint.prev.pt`) and reads back the
    newest good one. Installs SIGTERM/SIGUSR1 handlers for the duration of a `with` block."""

    def __init__(self, work_dir: str | os.PathLike, every: int, key: dict[str, Any]) -> None:
        self.dir = Path(work_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.every = int(every)
        self.key = key
        self.signal_received: int | None = None
        self._previous_handlers: dict[int, Any] = {}

    def __enter__(self) -> Checkpointer:
        for sig in (signal.SIGTERM, signal.SIGUSR1):
            try:
                self._previous_handlers[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread: no handlers, periodic checkpoints still work
                pass
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signal_received = signum

    def due(self, iteration: int, last: int) -> bool:
        """Checkpoint now? Every `every` iterations, and whenever a signal arrived (not after the last one)."""
        return iteration < last and (
            self.signal_received is not None or (self.every > 0 and iteration % self.every == 0)
        )

    def save(self, iteration: int, state: dict[str, Any]) -> None:
        path, previous = self.dir / CHECKPOINT, self.dir / PREVIOUS
        if path.exists():
            os.replace(path, previous)
        atomic_save_torch({"key": self.key, "iteration": iteration, **state}, path)
        log.info("checkpoint at iteration %d -> %s", iteration, path)
        signum, self.signal_received = self.signal_received, None
        if signum == signal.SIGTERM:
            raise TrainingInterrupted(
                f"SIGTERM at iteration {iteration}: checkpoint written, a restart resumes from it"
            )
        if signum is not None:
            log.info("%s: checkpoint written, training goes on", signal.Signals(signum).name)

    def load(self) -> dict[str, Any] | None:
        """The newest checkpoint that reads back and matches this run; None to start from scratch."""
        for path in (self.dir / CHECKPOINT, self.dir / PREVIOUS):
            if not path.exists():
                continue
            try:
                state = load_torch(path)
            except Exception as error:  # truncated or corrupt file: say so, try the one before
                log.warning(
                    "checkpoint %s is unreadable (%s: %s); trying the previous one",
                    path,
                    type(error).__name__,
                    str(error)[:200],
                )
                continue
            if not isinstance(state, dict) or state.get("key") != self.key:
                log.warning("checkpoint %s was made with other settings or data; not resuming from it", path)
                continue
            log.info("resuming from %s at iteration %d", path, state["iteration"])
            return state
        return None

    def clear(self) -> None:
        """Training finished: the checkpoints are no longer needed."""
        for name in (CHECKPOINT, PREVIOUS):
            (self.dir / name).unlink(missing_ok=True)
