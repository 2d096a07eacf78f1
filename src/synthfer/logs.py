"""Logging for workflow steps: a rule's log file, progress lines with ETA, and errors written down.

Kept free of heavy imports: every job imports it before anything else.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from typing import Any, Callable

log = logging.getLogger("synthfer")


def setup_logging(path: str | os.PathLike | None = None) -> None:
    """Log to a rule's log file (and stderr), one timestamped line per message."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if path:
        handlers.append(logging.FileHandler(path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers, force=True)


class Progress:
    """Logs 'what i/n, rate, ETA' at most every `every_s` seconds (and at the end)."""

    def __init__(self, what: str, total: int, every_s: float = 10.0, start: int = 0) -> None:
        """`start`: work already done before this run (a resumed job), left out of the rate."""
        self.what, self.total, self.every_s, self.offset = what, total, every_s, start
        self.start = self.last = time.monotonic()

    def update(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if now - self.last < self.every_s and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        rate = (done - self.offset) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        log.info("%s %d/%d (%.0f%%) %.1f/s elapsed %s ETA %s %s", self.what, done, self.total, 100 * done / max(1, self.total), rate, _hms(elapsed), _hms(eta), extra)


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def run_logged(log_path: str | os.PathLike, threads: int, step: Callable[..., Any], *args: Any, gpus: int = 0, **kwargs: Any) -> None:
    """Run one workflow step with its log file and the job's thread count; errors are logged too.

    `gpus`: the rule's `gpu` resource. A GPU job gets a device of its own before CUDA starts (see gpus.py).
    """
    setup_logging(log_path)
    if gpus:
        from synthfer.gpus import assign_gpu

        assign_gpu()
    if "torch" in sys.modules:  # steps that train or infer: use exactly the cores the scheduler gave
        import torch

        torch.set_num_threads(max(1, int(threads)))
        log.info("threads=%d torch=%s cuda=%s", threads, torch.__version__, torch.cuda.is_available())
    try:
        step(*args, **kwargs)
    except Exception:
        log.exception("step failed")
        raise
