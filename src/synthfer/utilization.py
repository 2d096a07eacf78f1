"""How busy a GPU was while a run went on: NVML's utilization sampled in a thread, and a run's jobs as time spans.

NVML's `gpu` utilization is the share of time in which a kernel was running on the device (what `nvidia-smi dmon`
shows as `sm`): a launch-bound loop leaves it low however small its kernels are. A job's span comes from its
benchmark file, written when the job ends: it ended at the file's mtime and ran its `s` seconds before.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class UtilizationSampler:
    """Samples (time, utilization %) of GPU `index` every `every_s` seconds between start() and stop(); records
    why not (`error`) where NVML is missing or fails."""

    index: int = 0
    every_s: float = 0.5
    samples: list[tuple[float, int]] = field(default_factory=list)
    error: str | None = None

    def start(self) -> UtilizationSampler:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            import pynvml  # nvidia-ml-py

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)
            while not self._stop.is_set():
                self.samples.append((time.time(), int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)))
                self._stop.wait(self.every_s)
        except Exception as error:  # noqa: BLE001 - no NVML: the proof says so instead of a number
            self.error = f"{type(error).__name__}: {error}"

    def mean(self, start: float | None = None, end: float | None = None) -> float | None:
        """Mean utilization (%) over the samples in [start, end]; None without samples there."""
        inside = [u for t, u in self.samples if (start is None or t >= start) and (end is None or t <= end)]
        return sum(inside) / len(inside) if inside else None


def start_seconds(logs: Path) -> dict[str, list[float]]:
    """{rule: the seconds each of its jobs spent before its step began} from the jobs' logs under `logs`
    (results/logs/<rule>/...; the line synthfer.logs writes: Python's start, imports, the device's)."""
    import re

    from synthfer.logs import STEP_STARTS

    found: dict[str, list[float]] = {}
    pattern = re.compile(rf"{STEP_STARTS} (\d+(?:\.\d+)?) s after")
    for path in sorted(logs.rglob("*.log")):
        match = pattern.search(path.read_text(errors="replace"))
        if match:
            rule = path.parent.name if path.parent != logs else path.stem
            found.setdefault(rule, []).append(float(match.group(1)))
    return found


def job_spans(benchmarks: Path) -> list[dict[str, Any]]:
    """Every finished job with a benchmark under `benchmarks` (results/benchmarks): its rule (the folder or file
    name), seconds, start and end (epoch seconds)."""
    import pandas as pd

    spans = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        seconds = float(pd.read_csv(path, sep="\t")["s"].iloc[-1])
        end = path.stat().st_mtime
        rule = path.parent.name if path.parent != benchmarks else path.stem
        spans.append(
            {
                "rule": rule,
                "job": str(path.relative_to(benchmarks)),
                "seconds": seconds,
                "start": end - seconds,
                "end": end,
            }
        )
    return spans
