"""How far the classifier's training is from what the device can do, and which lever closes the gap.

The paper's CNN at batch 16 leaves a large GPU mostly idle: each step is a few dozen small kernels, and the
host's time to launch them, not the GPU, sets the pace. Three levers a study could pull, measured side by
side with the workflow's path: larger batches (not the paper's protocol), CUDA graphs (`torch.compile` with
mode "reduce-overhead": one launch per graph), and more models stacked in one job (`experiment.stack_seeds`,
the paper's 5 seeds, or more). And the precision at batch 16: bf16 autocast adds a cast per weight and
activation, which a launch-bound step pays in launches; fp32 may be the faster choice there, alone or stacked.
For the GPU proof (scripts/gpu_proof.py).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from synthfer.bench import BenchSettings, median_seconds, paper_grid_minutes, stacked_throughput
from synthfer.models.classifier import PaperCNN
from synthfer.runtime import seed_everything
from synthfer.train.classifier import ClassifierStep, adam, train_one_epoch


def _epoch_images_per_s(
    step: ClassifierStep, x: torch.Tensor, y: torch.Tensor, batch: int, gen: torch.Generator
) -> float:
    """The median of 3 epochs after one warm-up epoch (which also compiles or captures)."""
    train_one_epoch(step, x, y, batch, gen)
    return len(x) / median_seconds(x.device, lambda: train_one_epoch(step, x, y, batch, gen), 3)


def headroom(
    image_size: int,
    n_images: int,
    batches: tuple[int, ...],
    stacked: tuple[int, ...],
    device: torch.device,
    graphs: bool = True,
    precisions: tuple[str, ...] = ("auto",),
) -> dict[str, Any]:
    """Images per second of our path at each batch size, at batch 16 under CUDA graphs (`graphs`; CUDA only:
    on a CPU the mode only compiles), and summed over S models stacked at batch 16 each, in each of
    `precisions` (runtime.PRECISIONS; batch sizes and graphs in the first); with the paper grid's device-minutes
    at the stacked rates (every run to its maximum epochs, as `make bench` counts them)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_images, image_size, image_size), dtype=np.uint8)
    labels = rng.integers(0, 6, n_images)
    x, y = torch.from_numpy(images).unsqueeze(1).to(device), torch.from_numpy(labels).to(device)

    first = precisions[0]

    def fresh(capture: bool = False) -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.Generator]:
        gen = seed_everything(0, device)
        model = PaperCNN(image_size).to(device, memory_format=torch.channels_last)
        return model, adam(model.parameters(), 1e-4, device if capture else None), gen

    by_batch = {}
    for batch in batches:
        model, opt, gen = fresh()
        by_batch[batch] = _epoch_images_per_s(ClassifierStep(model, opt, first), x, y, batch, gen)
    batch16_by_precision = {}
    for precision in precisions:
        if precision == first and 16 in by_batch:
            batch16_by_precision[precision] = by_batch[16]
            continue
        model, opt, gen = fresh()
        batch16_by_precision[precision] = _epoch_images_per_s(ClassifierStep(model, opt, precision), x, y, 16, gen)
    graphed, graphs_error, graphs_seconds, captured = None, None, 0.0, None
    if graphs:
        model, opt, gen = fresh(capture=True)
        captured = _epoch_images_per_s(ClassifierStep(model, opt, first), x, y, 16, gen)
        model, opt, gen = fresh()
        start = time.perf_counter()
        try:
            compiled = torch.compile(model, mode="reduce-overhead")
            graphed = _epoch_images_per_s(ClassifierStep(compiled, opt, first), x, y, 16, gen)
        except Exception as error:  # noqa: BLE001 - a compiler failure is a finding, not a crash of the proof
            graphs_error = f"{type(error).__name__}: {str(error).strip()[:300]}"
        graphs_seconds = time.perf_counter() - start
    stacks = []
    for precision in precisions:
        for n_models in stacked:
            rate = stacked_throughput(images[:1024], labels[:1024], 16, n_models, device, precision)[
                "stacked_images_per_s"
            ]
            grid = paper_grid_minutes(BenchSettings(image_size=image_size), rate, rate)
            stacks.append(
                {
                    "models": n_models,
                    "precision": precision,
                    "images_per_s": rate,
                    "paper_grid_minutes": grid["stacked_minutes"],
                }
            )
    return {
        "image_size": image_size,
        "precision": first,
        "images_per_s_by_batch": by_batch,
        "batch16_images_per_s_by_precision": batch16_by_precision,
        "cuda_graphs_batch16_images_per_s": graphed,
        "captured_step_batch16_images_per_s": captured,
        "cuda_graphs_seconds_with_compiling": graphs_seconds,
        "cuda_graphs_error": graphs_error,
        "stacked_batch16": stacks,
    }
