"""Light classical augmentation on the device: a random horizontal flip and a small random affine per face.

torchvision's transforms draw one set of parameters per call, i.e. per batch; here every face gets its own
flip, rotation, scale and shift, drawn from the training loop's generator (so runs stay reproducible), and
the whole batch is warped in one `grid_sample` where the data already is. `augmented_copies` makes the fixed copies of the control arm
real-augmented from the same draws plus brightness and contrast.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

MAX_ROTATION_DEG = 10.0
MAX_SHIFT = 0.05  # fraction of the image side
SCALE_RANGE = (0.95, 1.05)


def random_affine_matrices(n: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 2, 3) affine matrices in normalised coordinates: flip, rotation, scale, shift per face."""
    u = torch.rand(n, 5, generator=gen, device=gen.device)
    flip = torch.where(u[:, 0] < 0.5, -1.0, 1.0)
    angle = (u[:, 1] * 2 - 1) * math.radians(MAX_ROTATION_DEG)
    scale = SCALE_RANGE[0] + u[:, 2] * (SCALE_RANGE[1] - SCALE_RANGE[0])
    shift = (u[:, 3:5] * 2 - 1) * 2 * MAX_SHIFT  # normalised coordinates span 2
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    return torch.stack(
        [torch.stack([cos * flip, -sin, shift[:, 0]], 1), torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1
    )


def augment_batch(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x: float faces (N, C, H, W) -> the same faces flipped and warped, each its own way; borders replicate."""
    theta = random_affine_matrices(len(x), gen).to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


MAX_BRIGHTNESS = 0.1  # added to [0, 1] pixels
CONTRAST_RANGE = (0.8, 1.2)  # around each face's mean


def jitter_photometric(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x: float faces (N, C, H, W) in [0, 1] -> each face's contrast scaled about its mean and its brightness
    shifted, its own way; clipped to [0, 1]."""
    u = torch.rand(len(x), 2, generator=gen, device=gen.device).to(device=x.device, dtype=x.dtype)
    contrast = (CONTRAST_RANGE[0] + u[:, 0] * (CONTRAST_RANGE[1] - CONTRAST_RANGE[0])).view(-1, 1, 1, 1)
    brightness = ((u[:, 1] * 2 - 1) * MAX_BRIGHTNESS).view(-1, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * contrast + mean + brightness).clamp(0, 1)


def augmented_copies(images: np.ndarray, sources: np.ndarray, seed: int) -> np.ndarray:
    """uint8 faces (N, S, S) -> one classically augmented copy of `images[sources[i]]` per entry of `sources`
    (flip, affine, brightness, contrast; each its own draw), uint8. The control arm real-augmented adds these
    in place of generated faces: fixed once per run, as generated units are."""
    gen = torch.Generator().manual_seed(seed)
    out = np.empty((len(sources), *images.shape[1:]), np.uint8)
    for start in range(0, len(sources), 1024):
        chunk = torch.from_numpy(images[sources[start : start + 1024]]).unsqueeze(1).float() / 255
        warped = jitter_photometric(augment_batch(chunk, gen), gen)
        out[start : start + len(chunk)] = (warped[:, 0] * 255).round().clamp(0, 255).to(torch.uint8).numpy()
    return out
