"""Training steps replayed as captured CUDA graphs on a GPU, run eagerly everywhere else.

The study's networks are small (batch 8-16, 32-64 px): on a GPU each training step is a few hundred short
kernels, and the host cannot launch them as fast as the device runs them, so the device idles between them.
Captured once, a step is replayed with one launch. What a step computes is unchanged: the same modules,
optimisers and random generators; only who issues the kernels differs.

Rules a captured function keeps (PyTorch's CUDA-graph rules): its tensor inputs arrive in fixed-shape
buffers (one graph per `key`, e.g. per batch shape or per kind of iteration), everything it reads that
changes between iterations is a tensor updated in place (a learning rate, a noise level), its random draws
come from generators registered with the graph, it returns tensors only, and nothing in it reads a value
back to the host. The first `warmup` calls of each key run eagerly on a side stream (lazy optimiser state,
cuDNN's choices), the next is captured and replayed; from then on each call copies its inputs into the
buffers and replays. On a CPU, with SYNTHFER_CUDA_GRAPHS=0, or when capture fails, every call runs eagerly,
and the reason is logged once.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

log = logging.getLogger("synthfer")

SWITCH = "SYNTHFER_CUDA_GRAPHS"
"""Environment variable: `0` runs every training step eagerly on a GPU too (for debugging, or a driver that
mis-replays graphs)."""


def eager_reason(device: torch.device) -> str | None:
    """Why steps on `device` run eagerly; None when they are captured."""
    if device.type != "cuda":
        return f"device {device.type}: CUDA graphs exist only on CUDA devices"
    if os.environ.get(SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return f"{SWITCH}={os.environ[SWITCH]}"
    return None


@dataclass
class _Captured:
    graph: torch.cuda.CUDAGraph
    inputs: tuple[torch.Tensor, ...]
    outputs: Any


class StepGraphs:
    """Steps as one CUDA graph per key (see the module docstring). `generators`: the CUDA generators the steps
    draw from besides the default one (registered with every graph, so that each replay draws anew, the same
    numbers an eager step would draw)."""

    def __init__(
        self, device: torch.device, label: str, generators: Sequence[torch.Generator] = (), warmup: int = 3
    ) -> None:
        self.device, self.label, self.warmup = device, label, warmup
        self.generators = [g for g in generators if g.device.type == "cuda"]
        self.reason = eager_reason(device)
        self.graphs: dict[Hashable, _Captured] = {}
        self.calls: Counter[Hashable] = Counter()
        self.levels: dict[str, torch.Tensor] = {}
        log.info("%s: %s", label, "CUDA graphs" if self.reason is None else f"eager steps ({self.reason})")

    @property
    def captured(self) -> bool:
        """True while steps are (to be) replayed from graphs."""
        return self.reason is None

    def __call__(self, key: Hashable | None, fn: Callable[..., Any], *inputs: torch.Tensor) -> Any:
        """`fn(*inputs)`, from the graph of `key` once captured (the graph replays what the first `fn` of that
        key did at capture). Key None: eager this time (a step whose shapes or Python state still change)."""
        if self.reason is not None or key is None:
            return fn(*inputs)
        entry = self.graphs.get(key)
        if entry is None:
            self.calls[key] += 1
            if self.calls[key] <= self.warmup:
                return self._on_side_stream(fn, inputs)
            try:
                entry = self.graphs[key] = self._capture(key, fn, inputs)
            except Exception as error:  # noqa: BLE001 - any capture failure: the eager step still trains
                return self._give_up(error, fn, inputs)
        for buffer, value in zip(entry.inputs, inputs, strict=True):
            buffer.copy_(value)
        entry.graph.replay()
        return entry.outputs

    def off(self, reason: str) -> None:
        """Every step eager from here on, for `reason` (a reference path that must run as torch runs it)."""
        self.reason = reason
        self.graphs.clear()

    def level(self, name: str, value: float) -> float | torch.Tensor:
        """A number that changes from step to step (a noise level): the number itself when eager, else a device
        tensor set to it in place, which the graph reads when it replays."""
        if self.reason is not None:
            return value
        if name not in self.levels:
            self.levels[name] = torch.zeros((), device=self.device)
        return self.levels[name].fill_(value)

    def _on_side_stream(self, fn: Callable[..., Any], inputs: tuple[torch.Tensor, ...]) -> Any:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            out = fn(*inputs)
        torch.cuda.current_stream().wait_stream(side)
        return out

    def _capture(self, key: Hashable, fn: Callable[..., Any], inputs: tuple[torch.Tensor, ...]) -> _Captured:
        buffers = tuple(x.detach().clone() for x in inputs)
        graph = torch.cuda.CUDAGraph()
        for generator in self.generators:
            graph.register_generator_state(generator)
        with torch.cuda.graph(graph):
            outputs = fn(*buffers)
        log.info("%s: step %r captured as a CUDA graph", self.label, key)
        return _Captured(graph, buffers, outputs)  # the caller replays it: capture ran nothing

    def _give_up(self, error: Exception, fn: Callable[..., Any], inputs: tuple[torch.Tensor, ...]) -> Any:
        self.reason = f"capture failed: {type(error).__name__}: {(str(error).strip().splitlines() or [''])[0][:300]}"
        log.warning("%s: eager steps from here on (%s)", self.label, self.reason)
        self.graphs.clear()
        if torch.cuda.is_initialized():
            torch.cuda.synchronize()  # whatever the broken capture left queued ends before the eager step
        return fn(*inputs)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Every group's learning rate set to `lr`: in place where it is a tensor (a captured optimiser step reads it
    from the device), replaced where it is a number."""
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


def adam_for(params: Any, lr: float, device: torch.device, **options: Any) -> torch.optim.Adam:
    """torch's Adam, capturable (its step count and learning rate on the device) where steps are captured;
    exactly torch's default Adam elsewhere, so that CPU runs keep their numbers."""
    if eager_reason(device) is None:
        return torch.optim.Adam(params, lr=torch.tensor(lr, device=device), capturable=True, **options)
    return torch.optim.Adam(params, lr=lr, **options)
