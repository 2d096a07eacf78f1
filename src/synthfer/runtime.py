"""Device choice, seeding, mixed precision and progress lines: what every training loop shares."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
import time

import numpy as np
import torch

log = logging.getLogger("synthfer")


def setup_logging(path: str | os.PathLike | None = None) -> None:
    """Log to a rule's log file (and stderr), one timestamped line per message."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path:
        handlers.append(logging.FileHandler(path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers, force=True)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; returns a torch generator for the loop's own random draws."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA when present (or asked for), else CPU."""
    if preference == "cpu":
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for but no CUDA device is visible")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads(threads: int) -> None:
    """Use exactly the cores the scheduler gave this job."""
    torch.set_num_threads(max(1, int(threads)))


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA; full precision on CPU, where bf16 convs are slower."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Progress:
    """Logs 'what i/n, rate, ETA' at most every `every_s` seconds (and at the end)."""

    def __init__(self, what: str, total: int, every_s: float = 10.0) -> None:
        self.what, self.total, self.every_s = what, total, every_s
        self.start = self.last = time.monotonic()

    def update(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if now - self.last < self.every_s and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        log.info("%s %d/%d (%.0f%%) %.1f/s elapsed %s ETA %s %s", self.what, done, self.total, 100 * done / max(1, self.total), rate, _hms(elapsed), _hms(eta), extra)


def _hms(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def run_logged(log_path: str | os.PathLike, threads: int, step, *args, **kwargs) -> None:
    """Run one workflow step with logging to its log file and the job's thread count; errors are logged too."""
    setup_logging(log_path)
    set_threads(threads)
    log.info("threads=%d torch=%s cuda=%s", threads, torch.__version__, torch.cuda.is_available())
    try:
        step(*args, **kwargs)
    except Exception:
        log.exception("step failed")
        raise
