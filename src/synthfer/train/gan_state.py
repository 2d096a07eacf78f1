"""One GAN's training state as one object, and the loop every GAN trainer runs.

A GAN's training changes more than its weights: both networks, both optimisers, the EMA of the generator, the
CycleGAN's image pools, the random stream its batches are drawn from, the losses carried from one step to the
next and the loss log. `GANState` holds them by name with one `state_dict` / `load_state_dict`, which is what a
checkpoint stores, so a trainer never builds or restores a checkpoint dict by hand. `train_loop` is the loop
around a trainer's step function: the iteration counter, logging, sample grids and checkpoints (synthfer.train.
resume), the same for StarGAN, the CycleGANs and the identity GAN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from synthfer.logs import Progress
from synthfer.train.graphs import StepGraphs
from synthfer.train.resume import Checkpointer, random_state, restore_random_state


class GANState:
    """Everything one GAN's training changes. `parts`: objects with `state_dict` / `load_state_dict` (modules,
    optimisers, the EMA, image pools), reached as attributes (`state.G`, `state.g_opt`); a part may be None (no
    EMA). `random`: the generator every batch and noise is drawn from. `last`: values a step leaves for a later
    one (the latest generator losses, read only when logged). `rows`: the loss log, one row per logged
    iteration. `iteration`: the last iteration started. `graphs`: the steps' CUDA graphs on a GPU
    (synthfer.train.graphs; not part of the state: a resumed run captures anew)."""

    def __init__(self, random: torch.Generator, device: torch.device, **parts: Any) -> None:
        self.parts = parts
        self.random = random
        self.device = device
        self.graphs = StepGraphs(device, "GAN step", [random])
        self.last: dict[str, Any] = {}
        self.rows: list[dict[str, float]] = []
        self.iteration = 0

    def __getattr__(self, name: str) -> Any:
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(f"{type(self).__name__} has no part {name!r} (parts: {sorted(parts)})")

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors and values only, so that it loads with `weights_only=True`."""
        return {
            "parts": {name: part.state_dict() for name, part in self.parts.items() if part is not None},
            "last": {name: _number(value) for name, value in self.last.items()},
            "rows": [dict(row) for row in self.rows],
            "random": random_state(self.random),
            "iteration": self.iteration,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, part in self.parts.items():
            if part is not None:
                part.load_state_dict(state["parts"][name])
        self.last = dict(state["last"])
        self.rows = [dict(row) for row in state["rows"]]
        restore_random_state(self.random, state["random"])
        self.iteration = int(state["iteration"])

    def log(self, losses: dict[str, Any], progress: Progress) -> None:
        """One row of the loss log: the only place a loss is read back from the device."""
        row = {"iteration": self.iteration, **{name: _number(value) for name, value in losses.items()}}
        self.rows.append(row)
        progress.update(self.iteration, " ".join(f"{k}={v:.3f}" for k, v in row.items() if k != "iteration"))


def _number(value: Any) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


def train_loop(
    state: GANState,
    step: Callable[[GANState], dict[str, Any]],
    schedule: Any,
    checkpointer: Checkpointer,
    progress_label: str,
    sample: Callable[[GANState], None],
) -> None:
    """Run `step` from the iteration after the last checkpoint (if one matches this run) to
    `schedule.iterations`; log its losses every `schedule.log_every` and at the end, call `sample` every
    `schedule.sample_every` and at the end, checkpoint every `schedule.checkpoint_every` and on a signal."""
    saved = checkpointer.load()
    if saved is not None:
        state.load_state_dict(saved)
    last = schedule.iterations
    progress = Progress(progress_label, last, start=state.iteration)
    with checkpointer:
        for it in range(state.iteration + 1, last + 1):
            state.iteration = it
            losses = step(state)
            if it % schedule.log_every == 0 or it == last:
                state.log(losses, progress)
            if it % schedule.sample_every == 0 or it == last:
                sample(state)
            if checkpointer.due(it, last):
                checkpointer.save(it, state.state_dict())
    checkpointer.clear()
