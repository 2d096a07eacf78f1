"""Logging for workflow steps: a rule's log file, progress lines with ETA, and errors written down.

Kept free of heavy imports: every job imports it before anything else.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("synthfer")


def setup_logging(path: str | os.PathLike | None = None) -> None:
    """Log one timestamped line per message: to the rule's log file when there is one, else to stderr.

    With a log file, the process's own stdout and stderr (file descriptors 1 and 2) are sent there too, so
    that what libraries print behind Python's back (a C++ library's notices, a traceback) and Python warnings
    land in the job's log, which Snakemake keeps and shows when the job fails, instead of the terminal or a
    SLURM output file that is deleted on success. The terminal is left to Snakemake's progress."""
    if path:
        global _job
        _job = str(path).split("logs/", 1)[-1].removesuffix(".log")
        _redirect_output(path)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        handlers=[logging.StreamHandler(sys.stderr)],
        force=True,
    )
    logging.captureWarnings(True)  # warnings.warn (scipy's, torch's) become log lines


_job: str | None = None
"""The job's name in terminal lines: its log's path below results/logs/, without `.log`."""

_terminal: int | None = None
"""The job's own stderr (the terminal, or SLURM's output file) once output goes to the log: where a failure is
reported, since the workflow profile keeps Snakemake's rule details (and with them its failure block) quiet."""


def _redirect_output(path: str | os.PathLike) -> None:
    global _terminal
    sys.stdout.flush()
    sys.stderr.flush()
    if _terminal is None:
        _terminal = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)


TERMINAL_EVERY_S = 60.0
"""How often a long job's progress also reaches the terminal (where Snakemake otherwise says nothing until the
job ends): one line a minute per running job."""


class Progress:
    """Logs 'what i/n, rate, ETA' at most every `every_s` seconds (and at the end), and at most every
    TERMINAL_EVERY_S one short line of it to the terminal the job was started from."""

    def __init__(self, what: str, total: int, every_s: float = 10.0, start: int = 0) -> None:
        """`start`: work already done before this run (a resumed job), left out of the rate."""
        self.what, self.total, self.every_s, self.offset = what, total, every_s, start
        self.start = self.last = self.last_terminal = time.monotonic()

    def update(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if now - self.last < self.every_s and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        rate = (done - self.offset) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        if _terminal is not None and now - self.last_terminal >= TERMINAL_EVERY_S and done < self.total:
            self.last_terminal = now
            line = f"    {_job or 'job'}: {self.what} {done}/{self.total}, {_hms(elapsed)} so far, ETA {_hms(eta)}\n"
            try:
                os.write(_terminal, line.encode())
            except OSError:
                pass
        log.info(
            "%s %d/%d (%.0f%%) %.1f/s elapsed %s ETA %s %s",
            self.what,
            done,
            self.total,
            100 * done / max(1, self.total),
            rate,
            _hms(elapsed),
            _hms(eta),
            extra,
        )


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def run_logged(
    log_path: str | os.PathLike, threads: int, step: Callable[..., Any], *args: Any, gpus: int = 0, **kwargs: Any
) -> None:
    """Run one workflow step with its log file and the job's thread count; errors are logged too.

    `gpus`: the rule's `gpu` resource. A GPU job gets a device of its own before CUDA starts (see gpus.py).
    """
    setup_logging(log_path)
    if gpus:
        from synthfer.gpus import assign_gpu

        assign_gpu()
    if "torch" in sys.modules:  # steps that train or infer: use exactly the cores the scheduler gave
        import torch

        from synthfer.seam import reuse_freed_memory

        torch.set_num_threads(max(1, int(threads)))
        reused = reuse_freed_memory()
        log.info(
            "threads=%d torch=%s cuda=%s freed memory reused (seam.reuse_freed_memory)=%s",
            threads,
            torch.__version__,
            torch.cuda.is_available(),
            reused,
        )
    age = process_age()
    if age is not None:  # what the job spent before its step: Python, imports, device choice (gpu_proof sums it)
        log.info("%s %.2f s after the job's process started", STEP_STARTS, age)
    try:
        step(*args, **kwargs)
    except Exception as exc:  # written once, to the log; its end is shown where the job was started
        log.exception("step failed: %s", exc)
        report_failure(log_path, exc)
        raise SystemExit(1) from None


STEP_STARTS = "step starts"
"""The words of the log line that says when a job's step began (read back by synthfer.utilization)."""


def process_age() -> float | None:
    """Seconds since this process started (Linux: /proc), None where that cannot be read."""
    try:
        start_ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def report_failure(log_path: str | os.PathLike, error: BaseException | None = None, context: int = 10) -> None:
    """Show a failed job's log on its original stderr, from a few lines before the failure to the end, then the
    error itself in one line: the log may be empty or unreadable (a full disk) and the reason must still show."""
    if _terminal is None:
        return
    try:
        for handler in logging.getLogger().handlers:
            handler.flush()
        lines = open(log_path, errors="replace").read().splitlines()
    except OSError:
        lines = []
    failed = max((i for i, line in enumerate(lines) if " step failed: " in line), default=max(0, len(lines) - 40))
    shown = "\n".join(f"    {line}" for line in lines[max(0, failed - context) :])
    reason = f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}" if error is not None else ""
    text = f"\nJob failed; its log ({log_path}) ends:\n{shown}\n" if shown else f"\nJob failed ({log_path} is empty)\n"
    try:
        os.write(_terminal, f"{text}{'error: ' + reason if reason else ''}\n\n".encode())
    except OSError:
        pass
