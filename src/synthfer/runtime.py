"""Device choice, seeding, threads and mixed precision: what every training loop shares."""

from __future__ import annotations

import contextlib
import functools
import random

import numpy as np
import torch

from synthfer.settings import PRECISIONS  # noqa: F401 - re-exported


def seed_everything(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """Seed Python, NumPy and torch; returns a torch generator on `device` for the loop's own random draws.

    On a GPU the loop draws its batch indices, flips and noise there: a draw made on the CPU and copied over
    would wait for every queued kernel (a blocking host-to-device copy synchronises the stream), once per
    iteration. A CUDA generator gives other numbers than a CPU one for the same seed; each is reproducible."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator(device=torch.device(device)).manual_seed(seed)


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA when present (or asked for), else CPU."""
    if preference == "cpu":
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for but no CUDA device is visible")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 instructions (avx512_bf16 or AMX): there bf16 convolutions run about 1.6x faster
    than fp32 (measured on our CPU, the paper's CNN); elsewhere oneDNN emulates bf16 and it is slower. Cached: loops
    resolve `auto` once per batch."""
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check() for check in checks if check is not None)


def cuda_has_native_bf16(device: torch.device) -> bool:
    """True on GPUs with bf16 tensor cores (compute capability 8.0 and up: A100, H100, RTX 30xx and later).
    `torch.cuda.is_bf16_supported()` also says yes on V100 and T4, where bf16 is emulated and slower than fp32."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    return torch.cuda.get_device_capability(index) >= (8, 0)


def resolve_precision(precision: str, device: torch.device) -> str:
    """`fp32` or `bf16`, the precision a training loop on `device` runs at."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if cuda_has_native_bf16(device) else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def autocast(device: torch.device, precision: str | None = None) -> contextlib.AbstractContextManager:
    """The autocast context of a loop. `precision` is one of PRECISIONS: the classifier's setting, and `auto`
    for the GANs' training steps (bf16 where the device has bf16 units: about 1.3x on our CPU's demo GANs). None
    is the rule for inference (test predictions, translating and generating faces): bf16 on a GPU that has it
    natively, fp32 on any CPU."""
    if precision is None:
        precision = "auto" if device.type == "cuda" else "fp32"
    if resolve_precision(precision, device) == "bf16":
        # inside a CUDA-graph capture, casts are not cached across uses: a cached cast would be a tensor of the
        # capture that outlives it (PyTorch's CUDA-graph notes)
        capturing = device.type == "cuda" and torch.cuda.is_initialized() and torch.cuda.is_current_stream_capturing()
        return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=not capturing)
    return contextlib.nullcontext()
