"""The paper's expression classifier (Table 1): a small CNN on 64x64 grayscale faces.

Conv32 -> Conv64 -> MaxPool -> Dropout .25 -> Conv128 -> MaxPool -> Conv128 -> MaxPool -> Dropout .25
-> Dense 1024 -> Dropout .5 -> Dense 6; all convs 3x3 'valid' with ReLU. About 4.97 M parameters at 64 px;
other sizes only change the flattened width. Dropout is `BytewiseDropout`: the same masks' distribution, drawn
faster on a CPU.
"""

from __future__ import annotations

import torch
from torch import nn

from synthfer.labels import EMOTIONS
from synthfer.models.dropout import BytewiseDropout


def _flat_side(image_size: int) -> int:
    side = image_size
    side = (side - 4) // 2  # two valid convs, pool
    side = (side - 2) // 2  # conv, pool
    side = (side - 2) // 2  # conv, pool
    if side < 1:
        raise ValueError(f"image_size {image_size} too small for the paper CNN (needs >= 22)")
    return side


class PaperCNN(nn.Module):
    """Returns logits; softmax lives in the loss, as usual in PyTorch."""

    def __init__(self, image_size: int = 64, n_classes: int = len(EMOTIONS)) -> None:
        super().__init__()
        side = _flat_side(image_size)
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            BytewiseDropout(0.25),
            nn.Conv2d(64, 128, 3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(128, 128, 3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            BytewiseDropout(0.25),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * side * side, 1024),
            nn.ReLU(inplace=True),
            BytewiseDropout(0.5),
            nn.Linear(1024, n_classes),
        )
        # Keras defaults, as in the authors' code: Glorot-uniform weights, zero biases. PyTorch's default
        # init leaves this net stuck at chance for some seeds.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
