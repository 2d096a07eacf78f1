"""Time limits of cluster jobs: what each rule asks SLURM for (`-t`), attempt after attempt.

A partition refuses, or queues forever, a job asking more than its MaxTime. Growing a GAN's request with
the attempt (24 h, 48 h, 72 h) meant its retry, the one that resumes from the checkpoint, never ran on a
24 h partition. So every request is capped by `max_runtime` (one number per rule family, minutes), and the
GANs, which resume, ask the same limit on every attempt. Jobs that restart from scratch ask more on a
retry (a job stopped by its limit would be stopped again) but never above the cap.

Kept free of heavy imports: the workflow reads it at parse time.
"""

from __future__ import annotations

MAX_RUNTIME = {
    "prepare": 960,
    "gan": 1440,
    "generate": 240,
    "classifier": 480,
    "evaluate": 120,
    "minority": 960,
}
"""Default cap per rule family, minutes (`max_runtime` in the config overrides): a 24 h GAN partition and
16 h elsewhere are what most university clusters grant."""

RESUMING = frozenset({"gan"})
"""Families whose jobs resume from a checkpoint: every attempt asks the same limit."""


def runtime_minutes(family: str, base: int, attempt: int, caps: dict[str, int] | None = None) -> int:
    """The `runtime` (minutes) of one attempt of a job of `family` whose first attempt needs `base`."""
    caps = {**MAX_RUNTIME, **(caps or {})}
    if family not in caps:
        raise KeyError(f"unknown rule family {family!r}; known: {', '.join(caps)}")
    wanted = base if family in RESUMING else base * max(1, attempt)
    return max(1, min(int(wanted), int(caps[family])))
