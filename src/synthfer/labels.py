"""Canonical class names shared by every stage: the 6 Ekman emotions, plus neutral as a source domain."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
"""Classes of the expression classifier, in label-index order."""

NEUTRAL = "neutral"
DOMAINS: tuple[str, ...] = (NEUTRAL, *EMOTIONS)
"""Domains of the expression translator: neutral is a source, never a classifier class."""


def emotion_index(name: str) -> int:
    """Classifier label of an emotion name; raises with the allowed names when unknown."""
    try:
        return EMOTIONS.index(name)
    except ValueError:
        raise ValueError(f"unknown emotion {name!r}; allowed: {', '.join(EMOTIONS)}") from None


def domain_index(name: str) -> int:
    """Translator domain of an emotion or neutral."""
    try:
        return DOMAINS.index(name)
    except ValueError:
        raise ValueError(f"unknown domain {name!r}; allowed: {', '.join(DOMAINS)}") from None
