"""Pixel scaling in one place, so training and testing can never scale differently."""

from __future__ import annotations

import torch


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [0, 1]: the classifier's input scaling (the paper's 1/255)."""
    return images.float().div_(255.0)


def to_signed(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]: the GANs' input scaling (tanh range)."""
    return images.float().div_(127.5).sub_(1.0)


def from_signed(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8."""
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
