"""The generator of the original StarGAN code, written from its published architecture so that the tests can
make a checkpoint exactly as that code saves one: module names `main.<i>` (residual blocks `main.<i>.main.<j>`),
RGB in and out, instance norms with affine parameters and running statistics, `torch.save(G.state_dict())`."""

from __future__ import annotations

import torch
from torch import nn


def _norm(dim: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(dim, affine=True, track_running_stats=True)


class OriginalResidualBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            _norm(dim),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            _norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


class OriginalGenerator(nn.Module):
    def __init__(self, conv_dim: int = 64, c_dim: int = 7, repeat_num: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3 + c_dim, conv_dim, 7, 1, 3, bias=False),
            _norm(conv_dim),
            nn.ReLU(inplace=True),
        ]
        dim = conv_dim
        for _ in range(2):
            layers += [nn.Conv2d(dim, dim * 2, 4, 2, 1, bias=False), _norm(dim * 2), nn.ReLU(inplace=True)]
            dim *= 2
        layers += [OriginalResidualBlock(dim) for _ in range(repeat_num)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(dim, dim // 2, 4, 2, 1, bias=False), _norm(dim // 2), nn.ReLU(inplace=True)]
            dim //= 2
        layers += [nn.Conv2d(dim, 3, 7, 1, 3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        c = c.view(c.size(0), c.size(1), 1, 1).repeat(1, 1, x.size(2), x.size(3))
        return self.main(torch.cat([x, c], dim=1))


def trained_looking(generator: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights with non-trivial norm parameters and running statistics, as a trained model has."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, nn.InstanceNorm2d):
                module.weight.copy_(1 + 0.3 * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(0.2 * torch.randn(module.bias.shape, generator=gen))
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=gen))
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=gen) + 0.5)
                module.num_batches_tracked.fill_(1000)
    return generator
