"""The generators' exponential moving average, updated without waiting for the GPU.

torch's `AveragedModel` keeps its update count on the CPU and copies it to the GPU on every update: a blocking
host-to-device copy, which synchronises the stream once per generator step. `EMA` is the same model and the
same average (W_ema <- decay * W_ema + (1 - decay) * W, the first update a plain copy) with the same state dict,
but it counts on the host and hands the count to nobody, so the update is one queued `_foreach_lerp_`.
"""

from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel


class EMA(AveragedModel):
    """Exponential moving average of a model's parameters (and its floating buffers when `use_buffers`)."""

    def __init__(self, model: torch.nn.Module, decay: float, use_buffers: bool = False) -> None:
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"EMA decay must be in [0, 1], got {decay}")
        super().__init__(model, use_buffers=use_buffers)
        self.decay = decay
        self._updates: int | None = 0  # n_averaged mirrored on the host; None after a load, read from the buffer once

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # noqa: ANN001, ANN201 - torch's signature
        self._updates = None
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    @torch.no_grad()
    def update_parameters(self, model: torch.nn.Module) -> None:
        pairs = list(zip(self.module.parameters(), model.parameters(), strict=True))
        buffers = list(zip(self.module.buffers(), model.buffers(), strict=True))
        if self.use_buffers:
            pairs += buffers
        else:  # as AveragedModel: buffers not averaged follow the model
            for mine, theirs in buffers:
                mine.copy_(theirs)
        if self._updates is None:
            self._updates = int(self.n_averaged)
        first = self._updates == 0
        floats = [(m, t.detach()) for m, t in pairs if m.is_floating_point()]
        if first and floats:
            torch._foreach_copy_([m for m, _ in floats], [t for _, t in floats])
        elif floats:
            torch._foreach_lerp_([m for m, _ in floats], [t for _, t in floats], 1.0 - self.decay)
        for mine, theirs in pairs:
            if not mine.is_floating_point():  # counters and the like: follow the model
                mine.copy_(theirs)
        self._updates += 1
        self.n_averaged.fill_(self._updates)
