"""A StyleGAN2-style identity generator for grayscale faces, sized for 32-128 px.

Mapping network (pixel-normalised z -> w through an MLP), a learned 4x4 constant, per resolution two
style-modulated 3x3 convolutions with weight demodulation and per-pixel noise inputs, and skip-connected
to-gray outputs summed across resolutions (Karras et al. 2020). The generator tracks the mean w so that
sampling can use the truncation trick. The discriminator is residual with a minibatch-stddev feature.
Equalised learning rate is kept (weights scaled at run time), as it is what lets one lr fit every layer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _levels(image_size: int) -> int:
    n = int(math.log2(image_size))
    if 2**n != image_size or image_size < 8:
        raise ValueError(f"the StyleGAN-style generator needs a power-of-two image_size >= 8, got {image_size}")
    return n


class EqualLinear(nn.Module):
    def __init__(self, fan_in: int, fan_out: int, lr_mul: float = 1.0, bias_init: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((fan_out,), float(bias_init)))
        self.scale, self.lr_mul = lr_mul / math.sqrt(fan_in), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class ModulatedConv(nn.Module):
    """3x3 (or 1x1) conv whose input channels are scaled by a style from w; demodulation renormalises each
    output channel so that styles change the mix of features, not the activation scale."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, w_dim: int, demodulate: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.scale = 1 / math.sqrt(in_ch * kernel * kernel)
        self.demodulate, self.padding = demodulate, kernel // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        # Scale the input by the style, run one shared conv, scale the output by the demodulation factor:
        # the same result as a per-sample modulated weight, without a grouped conv per sample.
        style = self.affine(w)  # (b, in)
        weight = self.scale * self.weight
        out = F.conv2d(x * style[:, :, None, None].to(x.dtype), weight.to(x.dtype), padding=self.padding)
        if self.demodulate:
            demod = torch.rsqrt(style.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t() + 1e-8)  # (b, out)
            out = out * demod[:, :, None, None].to(out.dtype)
        return out


class StyledLayer(nn.Module):
    """Modulated conv + a per-pixel noise input (learned strength) + bias + leaky ReLU."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv(in_ch, out_ch, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(1, out_ch, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv(x, w)
        if noise is None:
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        return F.leaky_relu(x + self.noise_strength * noise + self.bias, 0.2) * math.sqrt(2)


class StyleIdentityGenerator(nn.Module):
    """z (B, z_dim) -> face (B, 1, S, S) in about [-1, 1]; `truncation` < 1 pulls w towards its mean."""

    def __init__(
        self, image_size: int = 64, z_dim: int = 128, w_dim: int = 128, mapping_layers: int = 4, width: int = 64
    ) -> None:
        super().__init__()
        n = _levels(image_size)
        self.z_dim, self.w_dim = z_dim, w_dim
        self.mapping = nn.ModuleList(
            EqualLinear(z_dim if i == 0 else w_dim, w_dim, lr_mul=0.01) for i in range(mapping_layers)
        )
        channels = {2**r: min(width * 2 ** (n - r), 8 * width) for r in range(2, n + 1)}
        self.const = nn.Parameter(torch.randn(1, channels[4], 4, 4))
        self.first = StyledLayer(channels[4], channels[4], w_dim)
        self.to_gray = nn.ModuleList([ModulatedConv(channels[4], 1, 1, w_dim, demodulate=False)])
        self.blocks = nn.ModuleList()
        for r in range(3, n + 1):
            res = 2**r
            self.blocks.append(
                nn.ModuleList(
                    [
                        StyledLayer(channels[res // 2], channels[res], w_dim),
                        StyledLayer(channels[res], channels[res], w_dim),
                    ]
                )
            )
            self.to_gray.append(ModulatedConv(channels[res], 1, 1, w_dim, demodulate=False))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def map(self, z: torch.Tensor) -> torch.Tensor:
        x = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)
        for layer in self.mapping:
            x = F.leaky_relu(layer(x), 0.2) * math.sqrt(2)
        return x

    def synthesize(self, w: torch.Tensor) -> torch.Tensor:
        x = self.first(self.const.expand(w.shape[0], -1, -1, -1), w)
        image = self.to_gray[0](x, w)
        for (up, same), to_gray in zip(self.blocks, self.to_gray[1:]):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = same(up(x, w), w)
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False) + to_gray(x, w)
        return image

    def forward(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        w = self.map(z)
        if truncation != 1.0:
            w = self.w_avg + truncation * (w - self.w_avg)
        return self.synthesize(w)


class ResidualDown(nn.Module):
    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, in_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(in_ch, out_ch, 3, 1, 1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.leaky_relu(self.conv1(x), 0.2)
        y = F.avg_pool2d(F.leaky_relu(self.conv2(y), 0.2), 2)
        return (y + F.avg_pool2d(self.skip(x), 2)) / math.sqrt(2)


class StyleIdentityDiscriminator(nn.Module):
    """Residual critic down to 4x4, a minibatch standard-deviation channel, then one logit per image."""

    def __init__(self, image_size: int = 64, width: int = 64) -> None:
        super().__init__()
        n = _levels(image_size)
        channels = {2**r: min(width * 2 ** (n - r), 8 * width) for r in range(2, n + 1)}
        self.from_gray = nn.Conv2d(1, channels[image_size], 1)
        self.blocks = nn.Sequential(*[ResidualDown(channels[2**r], channels[2 ** (r - 1)]) for r in range(n, 2, -1)])
        self.final_conv = nn.Conv2d(channels[4] + 1, channels[4], 3, 1, 1)
        self.fc = nn.Linear(channels[4] * 16, channels[4])
        self.out = nn.Linear(channels[4], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.leaky_relu(self.from_gray(x), 0.2))
        group = min(4, x.shape[0])
        if x.shape[0] % group:
            group = 1
        y = x.view(group, -1, *x.shape[1:]).float()
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3)).to(x.dtype)  # (B / group,)
        x = torch.cat([x, std.repeat(group).view(-1, 1, 1, 1).expand(-1, 1, 4, 4)], dim=1)
        x = F.leaky_relu(self.final_conv(x), 0.2)
        return self.out(F.leaky_relu(self.fc(x.flatten(1)), 0.2)).flatten()
