"""Dropout whose CPU masks cost an eighth of the random numbers.

On a CPU, `nn.Dropout` draws one Mersenne-Twister number per element, one after another: in the paper CNN at
the demo's 32 px that was 11% of a training step on one core (torch.profiler, bf16), more than any layer but
the convolutions. This layer draws one 64-bit number per eight elements and keeps an element when its byte
is below 256 * (1 - p), which is exact when 256 * (1 - p) is a whole number (the paper's 0.25 and 0.5). The
masks have the same distribution as `nn.Dropout`'s, from the same seeded RNG, but are other draws: a run is
reproducible, not bit-identical to one with `nn.Dropout`. Any other p, a GPU (whose dropout is one fused
kernel) and eval mode take `nn.Dropout`'s own path. No library offers this, hence our own dozen lines.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

_BYTES_PER_DRAW = 8


class BytewiseDropout(nn.Dropout):
    """`nn.Dropout` with masks drawn a byte per element on a CPU (see the module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keep = (1.0 - self.p) * 256
        if not self.training or x.device.type != "cpu" or not 0 < keep < 256 or keep != int(keep):
            return super().forward(x)
        n = x.numel()
        draws = torch.empty(-(-n // _BYTES_PER_DRAW), dtype=torch.int64).random_(-(2**63), None)  # all 64 bits
        bytes_ = draws.view(torch.uint8)[:n]
        if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
            n_, c, h, w = x.shape
            kept = bytes_.view(n_, h, w, c).permute(0, 3, 1, 2) < int(keep)  # the mask in x's own layout
        else:
            kept = bytes_.view(x.shape) < int(keep)
        scale = kept.to(x.dtype).mul_(256 / keep)
        return x * scale if not self.inplace else x.mul_(scale)


def with_native_dropout(model: nn.Module) -> nn.Module:
    """A copy of `model` whose BytewiseDropout layers are plain `nn.Dropout`: under `torch.func.vmap` only
    torch's own random ops draw a different mask per stacked model."""
    model = copy.deepcopy(model)
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, BytewiseDropout):
                setattr(parent, name, nn.Dropout(child.p, child.inplace))
    return model
