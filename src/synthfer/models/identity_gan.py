"""A small DCGAN that draws new neutral identities: the demo's identity source.

Trained on neutral faces of the GAN-training set; its samples are the 'new people' the expression
translator then gives all six emotions. (A StyleGAN-style source is a later, drop-in replacement.)
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _levels(image_size: int) -> int:
    n = int(math.log2(image_size)) - 2
    if 2 ** (n + 2) != image_size or n < 2:
        raise ValueError(f"identity GAN needs a power-of-two image_size >= 16, got {image_size}")
    return n


class IdentityGenerator(nn.Module):
    """z (B, z_dim) -> image (B, 1, S, S) in [-1, 1]."""

    def __init__(self, image_size: int, z_dim: int = 64, width: int = 64) -> None:
        super().__init__()
        n = _levels(image_size)
        self.z_dim = z_dim
        ch = width * 2 ** (n - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
        ]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, 1, 4, 2, 1), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(z.size(0), -1, 1, 1))


class IdentityDiscriminator(nn.Module):
    """image -> one real/fake logit per image."""

    def __init__(self, image_size: int, width: int = 64) -> None:
        super().__init__()
        n = _levels(image_size)
        ch = width
        layers: list[nn.Module] = [nn.Conv2d(1, ch, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for _ in range(n - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers += [nn.Conv2d(ch, 1, 4, 1, 0)]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten()
