"""Where the new people come from: the neutral faces the translator then gives every emotion.

Three sources, one interface (`draw(n, unit)` -> uint8 faces (n, 1, S, S)):
- `GANIdentities`: the identity GAN trained by the workflow (DCGAN or StyleGAN-style), z drawn per unit.
- `TorchScriptIdentities`: a pretrained generator the user provides as a TorchScript file (z -> image, e.g.
  an exported StyleGAN2 FFHQ model, as in the paper). Its images go through the same face detection and
  eye alignment as the real faces, so generated and real faces are preprocessed alike; images where no
  single face is found are dropped and redrawn.
- `RealNeutralIdentities`: real neutral faces of the GAN-training set, one per subject, each subject used
  in at most one unit (the paper also imposes expressions on real faces).
A unit's identities depend only on (seed, unit), so every translator is given the same people.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from synthfer.labels import NEUTRAL
from synthfer.settings import IDENTITY_SOURCES, IdentityConfig  # noqa: F401 - re-exported
from synthfer.tensors import from_signed

log = logging.getLogger("synthfer")
SOURCES = IDENTITY_SOURCES


def unit_seed(seed: int, unit: int) -> int:
    """An independent seed per unit: adding units never changes the identities of the existing ones."""
    return int(np.random.SeedSequence([seed, unit]).generate_state(1)[0])


class IdentitySource(Protocol):
    name: str

    def draw(self, n: int, unit: int) -> torch.Tensor:
        """n new neutral faces for unit `unit`, uint8 (n, 1, S, S)."""
        ...


class GANIdentities:
    def __init__(self, generator: torch.nn.Module, seed: int, truncation: float = 1.0) -> None:
        self.name, self.generator, self.seed, self.truncation = "gan", generator, seed, truncation

    def draw(self, n: int, unit: int) -> torch.Tensor:
        from synthfer.train.identity_gan import sample_identities

        return sample_identities(self.generator, n, unit_seed(self.seed, unit), truncation=self.truncation)


def to_gray_signed(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1], C = 1 or 3 -> (N, 1, H, W) luminance (ITU-R 601 weights)."""
    if images.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
        return (images * weights).sum(1, keepdim=True)
    if images.shape[1] != 1:
        raise ValueError(f"a generator image needs 1 or 3 channels, got {images.shape[1]}")
    return images


class TorchScriptIdentities:
    """A user's pretrained generator, loaded with torch.jit.load (TorchScript holds no Python code to run)."""

    def __init__(
        self,
        path: str | os.PathLike,
        z_dim: int,
        image_size: int,
        seed: int,
        align: bool = True,
        eye_distance: float = 0.38,
        eye_height: float = 0.38,
        batch: int = 16,
        device: torch.device | str = "cpu",
        max_tries: int = 4,
    ) -> None:
        """(Ten parameters: the file and its latent size, then the settings of `generate:` and `preprocess:` the
        faces must match, each a value a user sets.)"""
        self.name, self.z_dim, self.size, self.seed, self.align = "torchscript", z_dim, image_size, seed, align
        self.eye_distance, self.eye_height, self.batch, self.device, self.max_tries = (
            eye_distance,
            eye_height,
            batch,
            torch.device(device),
            max_tries,
        )
        self.module = torch.jit.load(str(path), map_location=self.device).eval()
        self._detector = None

    def _crop(self, signed: torch.Tensor) -> list[np.ndarray | None]:
        """Generator output -> aligned gray faces at the training size (None where no single face is found)."""
        gray = to_gray_signed(signed.float().clamp(-1, 1))
        if not self.align:
            resized = F.interpolate(
                gray, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False
            )
            return list(from_signed(resized)[:, 0].cpu().numpy())
        from PIL import Image

        from synthfer.data.align import align_face

        if self._detector is None:
            from synthfer.data.detect import FaceDetector

            self._detector = FaceDetector()
        rgb = from_signed(
            signed.float().clamp(-1, 1) if signed.shape[1] == 3 else signed.float().clamp(-1, 1).expand(-1, 3, -1, -1)
        )
        out: list[np.ndarray | None] = []
        for image in rgb.permute(0, 2, 3, 1).cpu().numpy():
            found = self._detector.detect(image)
            if isinstance(found, str):
                out.append(None)
                continue
            out.append(
                align_face(
                    Image.fromarray(image),
                    found.left_eye,
                    found.right_eye,
                    self.size,
                    self.eye_distance,
                    self.eye_height,
                )
            )
        return out

    def draw(self, n: int, unit: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(unit_seed(self.seed, unit))
        faces: list[np.ndarray] = []
        dropped = 0
        for _ in range(self.max_tries):
            while len(faces) < n:
                z = torch.randn(min(self.batch, 2 * (n - len(faces))), self.z_dim, generator=gen)
                with torch.no_grad():
                    crops = self._crop(self.module(z.to(self.device)))
                dropped += sum(c is None for c in crops)
                faces += [c for c in crops if c is not None]
                if dropped > self.max_tries * n:
                    break
            if len(faces) >= n:
                break
        if len(faces) < n:
            raise RuntimeError(
                f"the TorchScript generator gave only {len(faces)} usable faces of {len(faces) + dropped} (no single face detected in the rest)"
            )
        if dropped:
            log.info(
                "unit %d: %d generated images without a single detectable face were dropped and redrawn", unit, dropped
            )
        return torch.from_numpy(np.stack(faces[:n])).unsqueeze(1)


class RealNeutralIdentities:
    """Real neutral faces as identities: one face per subject, subjects shuffled once by the seed, unit u
    taking the u-th block, so no person appears in two units (or two splits)."""

    def __init__(self, images: np.ndarray, table: pd.DataFrame, seed: int) -> None:
        self.name = "real_neutral"
        neutral = np.flatnonzero((table["emotion"] == NEUTRAL).to_numpy())
        first = pd.Series(neutral, index=table["subject"].to_numpy()[neutral]).groupby(level=0).first()
        order = np.random.default_rng(seed).permutation(len(first))
        self.images = images[first.to_numpy()[order]]
        self.subjects = first.index.to_numpy()[order]

    def draw(self, n: int, unit: int) -> torch.Tensor:
        start, stop = unit * n, (unit + 1) * n
        if stop > len(self.images):
            raise ValueError(
                f"real neutral identities: unit {unit} needs subjects {start}-{stop - 1} but the GAN-training set has "
                f"{len(self.images)} subjects with a neutral face; lower experiment.ratios or use generate.identities: gan"
            )
        return torch.from_numpy(self.images[start:stop]).unsqueeze(1)
