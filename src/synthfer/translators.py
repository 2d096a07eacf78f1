"""The expression translators the workflow knows, in one table that the rules, the config check, the steps
and the report all consult.

A translator is one of two families. A multi-domain one (StarGAN) is one generator that turns a face into any
emotion: one model file, trained by its own rule. A per-emotion one (the CycleGAN family) is one unpaired
Neutral -> e generator per emotion, each trained by `train_cyclegan`; the family's members differ only in their
config defaults (ECycleGAN: residual dense blocks and a perceptual cycle loss). Adding a CycleGAN-family member
is one entry here; its config section (`<name>:`) and its place in `translators:` follow from it.

Torch-free: the workflow reads it while it parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Translator:
    """One known translator. `per_emotion`: one Neutral -> e generator per emotion (CycleGAN family) rather
    than one multi-domain model; `dense_blocks`: its generator uses residual dense blocks (`sub_blocks` of
    them per block) instead of ResNet blocks; `defaults`: config values over CycleGANConfig's own, under the
    user's `<name>:` section."""

    name: str
    description: str
    per_emotion: bool
    dense_blocks: bool = False
    defaults: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


TABLE: dict[str, Translator] = {
    t.name: t
    for t in (
        Translator("stargan", "StarGAN (Choi et al. 2018): one generator for every emotion", per_emotion=False),
        Translator("cyclegan", "CycleGAN (Zhu et al. 2017): one Neutral -> e generator per emotion", per_emotion=True),
        Translator(
            "ecyclegan",
            "ECycleGAN (study 2): CycleGAN with residual dense blocks and a perceptual cycle loss",
            per_emotion=True,
            dense_blocks=True,
            defaults=MappingProxyType({"blocks": 2, "sub_blocks": 3, "cycle_loss": "perceptual"}),
        ),
    )
}
NAMES = tuple(TABLE)
PER_EMOTION = tuple(name for name, t in TABLE.items() if t.per_emotion)
DEFAULT = "stargan"
"""What `translators:` is when a config does not say."""


def translator(name: str) -> Translator:
    """The table's entry for `name`; an unknown name is an error that lists the known ones."""
    if name not in TABLE:
        raise ValueError(f"unknown translator {name!r}; known: {', '.join(NAMES)}")
    return TABLE[name]


def is_per_emotion(name: str) -> bool:
    return translator(name).per_emotion
