"""The WGAN-GP gradient penalty, shared by StarGAN and the CycleGAN family's critics."""

from __future__ import annotations

import torch


def gradient_penalty(d_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """WGAN-GP term: (||dD/dx||_2 - 1)^2, averaged over the batch."""
    grad = torch.autograd.grad(d_out, x, grad_outputs=torch.ones_like(d_out), create_graph=True)[0]
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
