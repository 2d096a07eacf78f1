"""StarGAN networks (Choi et al. 2018) as the paper's authors ran them, for grayscale faces.

Generator: 7x7 conv, two stride-2 down convs, residual blocks with instance norm, two transposed convs,
7x7 conv and tanh; the target domain is tiled over the image and concatenated to the input.
Discriminator: stride-2 4x4 convs with LeakyReLU 0.01 and no norm, then two heads: a patch map of
real/fake scores and a domain logit vector.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True, track_running_stats=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True, track_running_stats=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    """G(x, c): translate image x into domain c (one-hot over `c_dim` domains).

    `out_channels` 3: a generator imported from the original RGB StarGAN code (`synthfer import-stargan`); its
    colour output is turned into the grey faces this workflow uses (ITU-R 601 luma, after the tanh)."""

    def __init__(
        self,
        conv_dim: int = 64,
        c_dim: int = 7,
        repeat_num: int = 6,
        channels: int = 1,
        out_channels: int | None = None,
    ) -> None:
        super().__init__()
        out_channels = channels if out_channels is None else out_channels
        layers: list[nn.Module] = [
            nn.Conv2d(channels + c_dim, conv_dim, 7, 1, 3, bias=False),
            nn.InstanceNorm2d(conv_dim, affine=True),
            nn.ReLU(inplace=True),
        ]
        dim = conv_dim
        for _ in range(2):
            layers += [
                nn.Conv2d(dim, dim * 2, 4, 2, 1, bias=False),
                nn.InstanceNorm2d(dim * 2, affine=True),
                nn.ReLU(inplace=True),
            ]
            dim *= 2
        layers += [ResidualBlock(dim) for _ in range(repeat_num)]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(dim, dim // 2, 4, 2, 1, bias=False),
                nn.InstanceNorm2d(dim // 2, affine=True),
                nn.ReLU(inplace=True),
            ]
            dim //= 2
        layers += [nn.Conv2d(dim, out_channels, 7, 1, 3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1) if out_channels == 3 and channels == 1 else None
        self.register_buffer("to_gray", luma, persistent=False)  # None: the output is already what the workflow uses

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        c = c.view(c.size(0), c.size(1), 1, 1).expand(-1, -1, x.size(2), x.size(3))
        y = self.main(torch.cat([x, c.to(x.dtype)], dim=1))
        return y if self.to_gray is None else (y * self.to_gray.to(y.dtype)).sum(1, keepdim=True)


class Discriminator(nn.Module):
    """D(x) -> (patch real/fake scores, domain logits)."""

    def __init__(
        self, image_size: int = 64, conv_dim: int = 64, c_dim: int = 7, repeat_num: int = 6, channels: int = 1
    ) -> None:
        super().__init__()
        if image_size % (2**repeat_num):
            raise ValueError(f"image_size {image_size} must be divisible by 2**repeat_num = {2**repeat_num}")
        layers: list[nn.Module] = [nn.Conv2d(channels, conv_dim, 4, 2, 1), nn.LeakyReLU(0.01)]
        dim = conv_dim
        for _ in range(1, repeat_num):
            layers += [nn.Conv2d(dim, dim * 2, 4, 2, 1), nn.LeakyReLU(0.01)]
            dim *= 2
        self.main = nn.Sequential(*layers)
        kernel = image_size // 2**repeat_num
        self.src = nn.Conv2d(dim, 1, 3, 1, 1, bias=False)
        self.cls = nn.Conv2d(dim, c_dim, kernel, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.main(x)
        return self.src(h), self.cls(h).flatten(1)


def default_d_repeat(image_size: int) -> int:
    """Discriminator depth that brings the image down to 1x1 (6 at 64 px, as in the paper's run)."""
    return int(math.log2(image_size))
