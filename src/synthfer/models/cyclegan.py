"""CycleGAN and ECycleGAN networks for grayscale faces (study 2: Neutral -> a minority emotion).

CycleGAN (Zhu et al. 2017): a ResNet generator (7x7 conv, two stride-2 convs, residual blocks, two
transposed convs, 7x7 conv, tanh; reflection padding, instance norm) and a 70x70-style PatchGAN
discriminator. ECycleGAN replaces the residual blocks with residual dense blocks whose dense connections
are sums instead of concatenations; each block's output is scaled by `alpha` before it is added back.
The perceptual cycle loss reads VGG19 features through a learned 1x1 conv from gray to RGB.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            _norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class DenseSumBlock(nn.Module):
    """Residual dense block with summed dense connections: sub-block i sees the sum of the block input and
    every earlier sub-block's output; the fused result, scaled by alpha, is added back to the input."""

    def __init__(self, channels: int, sub_blocks: int, alpha: float) -> None:
        super().__init__()
        self.alpha = alpha
        self.subs = nn.ModuleList(
            nn.Sequential(
                nn.ReflectionPad2d(1),
                nn.Conv2d(channels, channels, 3),
                _norm(channels),
                nn.LeakyReLU(0.2, inplace=True),
            )
            for _ in range(sub_blocks)
        )
        self.fuse = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = x
        for sub in self.subs:
            total = total + sub(total)
        return x + self.alpha * self.fuse(total)


class TranslationGenerator(nn.Module):
    """x (N, 1, S, S) in [-1, 1] -> translated face, same shape. `dense_sub_blocks` = 0 gives CycleGAN's
    ResNet blocks; > 0 gives ECycleGAN's residual dense blocks of that many sub-blocks."""

    def __init__(
        self, ngf: int = 64, blocks: int = 6, dense_sub_blocks: int = 0, alpha: float = 0.5, channels: int = 1
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(channels, ngf, 7),
            _norm(ngf),
            nn.ReLU(inplace=True),
        ]
        dim = ngf
        for _ in range(2):
            layers += [nn.Conv2d(dim, dim * 2, 3, 2, 1), _norm(dim * 2), nn.ReLU(inplace=True)]
            dim *= 2
        layers += [
            DenseSumBlock(dim, dense_sub_blocks, alpha) if dense_sub_blocks else ResnetBlock(dim) for _ in range(blocks)
        ]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(dim, dim // 2, 3, 2, 1, output_padding=1),
                _norm(dim // 2),
                nn.ReLU(inplace=True),
            ]
            dim //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(dim, channels, 7), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class PatchDiscriminator(nn.Module):
    """A map of real/fake scores, one per overlapping patch (no sigmoid: LSGAN and WGAN-GP both take raw
    scores). Instance norm is left out when the loss is WGAN-GP (the penalty is per sample)."""

    def __init__(self, ndf: int = 64, n_layers: int = 3, channels: int = 1, norm: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        dim = ndf
        for i in range(1, n_layers + 1):
            out = ndf * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(dim, out, 4, stride, 1)]
            if norm:
                layers.append(_norm(out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            dim = out
        layers.append(nn.Conv2d(dim, 1, 4, 1, 1))
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class GrayToRGB(nn.Module):
    """Learned 1x1 conv gray -> 3 channels for an ImageNet network. Each output channel's weights are
    normalised to unit length, so the mapping cannot shrink to zero to make the perceptual loss vanish;
    it starts as the plain gray copy."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(3, 1, 1, 1))
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight / self.weight.flatten(1).norm(dim=1).clamp_min(1e-6).view(3, 1, 1, 1)
        return F.conv2d(x, w, self.bias)


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """Frozen VGG19 features up to `layers` modules of `torchvision.models.vgg19().features` (16 = relu3_1)."""

    def __init__(self, vgg_features: nn.Sequential, layers: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(*list(vgg_features.children())[:layers]).eval()
        for p in self.body.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> VGGFeatures:
        return super().train(False)  # frozen: always eval

    def forward(self, rgb_signed: torch.Tensor) -> torch.Tensor:
        return self.body(((rgb_signed + 1) / 2 - self.mean) / self.std)
