"""Our GAN training loops at a config's network sizes: iterations per second and peak device memory.

What the paper-size GANs cost is what decides whether the paper's study fits a GPU budget, and no bench of
the classifier says it. This runs the workflow's own steps (`stargan_step`, `cyclegan_step`, `identity_step`) on
random uint8 faces (speed does not depend on the faces), never reading a loss back between the timer's two reads,
with the steps captured as CUDA graphs (as the workflow runs them on a GPU) or eager (`capture=False`), so that
the two are measured side by side.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from synthfer.bench import wait_for_device
from synthfer.settings import CycleGANConfig, IdentityGANConfig, StarGANConfig
from synthfer.train import cyclegan, identity_gan, stargan

GANS = ("stargan", "cyclegan", "identity_gan")


def gan_speed(
    kind: str,
    cfg: StarGANConfig | CycleGANConfig | IdentityGANConfig,
    iterations: int,
    device: torch.device,
    warmup: int = 20,
    capture: bool = True,
) -> dict[str, Any]:
    """Iterations per second of `kind`'s training loop over `iterations` iterations after `warmup` (enough for the
    CycleGAN's image pools to fill and every step to be captured), and on CUDA the peak memory allocated (GiB)
    while it trained; `None` on a CPU, where torch keeps no such count."""
    if kind not in GANS:
        raise ValueError(f"gan_speed: kind {kind!r} is not one of {GANS}")
    rng = np.random.default_rng(0)
    faces = torch.from_numpy(rng.integers(0, 256, (512, 1, cfg.image_size, cfg.image_size), dtype=np.uint8))
    faces = faces.to(device)
    if kind == "stargan":
        domains = torch.from_numpy(rng.integers(0, 7, len(faces))).to(device)
        state = stargan.stargan_state(cfg, device)

        def step() -> None:
            stargan.stargan_step(state, stargan.draw_batch(faces, domains, cfg.batch_size, state.random), cfg)
    elif kind == "cyclegan":
        state = cyclegan.cyclegan_state(cfg, device)

        def step() -> None:
            batch = (
                cyclegan._batch(faces[:256], cfg.batch_size, state.random),
                cyclegan._batch(faces[256:], cfg.batch_size, state.random),
            )
            cyclegan.cyclegan_step(state, batch, cfg)
    else:
        state = identity_gan.identity_gan_state(cfg, device)

        def step() -> None:
            identity_gan.identity_step(state, identity_gan.draw_batch(faces, cfg.batch_size, state.random), cfg)

    if not capture:
        state.graphs.off("measured eagerly, beside the captured steps")
    for _ in range(warmup):
        state.iteration += 1
        step()
    wait_for_device(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(iterations):
        state.iteration += 1
        step()
    wait_for_device(device)
    seconds = time.perf_counter() - start
    return {
        "gan": kind,
        "captured": state.graphs.captured,
        "eager_reason": state.graphs.reason,
        "image_size": cfg.image_size,
        "batch_size": cfg.batch_size,
        "iterations_timed": iterations,
        "iterations_per_s": iterations / seconds,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None,
        "configured_iterations": cfg.iterations,
        "configured_minutes": cfg.iterations / (iterations / seconds) / 60,
    }
