"""One interface for every expression translator: "turn these faces into emotion e".

Generation does not care which model does it. StarGAN is one multi-domain generator; CycleGAN and
ECycleGAN are one unpaired generator per target emotion (Neutral -> e), so a translator of that kind is
the set of its per-emotion generators. The translator's name is a dimension of the results.
"""

from __future__ import annotations

import os
from typing import Protocol

import torch

from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.translators import translator


class Translator(Protocol):
    name: str

    def to_emotion(self, faces: torch.Tensor, emotion: str) -> torch.Tensor:
        """uint8 neutral faces (N, 1, S, S) -> the same faces showing `emotion`, uint8."""
        ...


class StarGANTranslator:
    def __init__(self, generator: torch.nn.Module, batch: int = 256) -> None:
        self.name, self.generator, self.batch = "stargan", generator, batch

    def to_emotion(self, faces: torch.Tensor, emotion: str) -> torch.Tensor:
        from synthfer.train.stargan import translate  # codemap: skip (the generator file is the input)

        return translate(self.generator, faces, DOMAINS.index(emotion), self.batch)


class PerEmotionTranslator:
    """CycleGAN-style: one generator per target emotion, all from the same source emotion."""

    def __init__(self, name: str, generators: dict[str, torch.nn.Module], batch: int = 256) -> None:
        self.name, self.generators, self.batch = name, generators, batch

    def to_emotion(self, faces: torch.Tensor, emotion: str) -> torch.Tensor:
        from synthfer.train.cyclegan import translate_faces  # codemap: skip (the generator file is the input)

        if emotion not in self.generators:
            raise KeyError(
                f"translator {self.name!r} has no generator for {emotion!r}; it has {sorted(self.generators)}"
            )
        return translate_faces(self.generators[emotion], faces, self.batch)


def load_translator(name: str, model_paths: list[str | os.PathLike], device: torch.device) -> Translator:
    """The translator `name` (synthfer.translators) from its model files: one StarGAN file for the multi-domain
    family, or one file per emotion for the CycleGAN family (each file knows its variant and target emotion)."""
    if not translator(name).per_emotion:
        from synthfer.train.stargan import load_stargan  # codemap: skip (the generator file is the input)

        if len(model_paths) != 1:
            raise ValueError(f"stargan is one model file, got {len(model_paths)}")
        return StarGANTranslator(load_stargan(model_paths[0], device)[0])
    from synthfer.train.cyclegan import load_cyclegan  # codemap: skip (the generator file is the input)

    generators = {}
    for path in model_paths:
        generator, cfg = load_cyclegan(path, device)
        if cfg.variant != name:
            raise ValueError(f"{path} is a {cfg.variant} model, not {name}")
        generators[cfg.target] = generator
    missing = [e for e in EMOTIONS if e not in generators]
    if missing:
        raise ValueError(f"translator {name!r} lacks generators for {missing}")
    return PerEmotionTranslator(name, generators)
