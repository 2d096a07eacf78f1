"""Canonical class names shared by every stage: the 6 Ekman emotions, plus neutral as a source domain."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
"""Classes of the expression classifier, in label-index order."""

NEUTRAL = "neutral"
DOMAINS: tuple[str, ...] = (NEUTRAL, *EMOTIONS)
"""Domains of the expression translator: neutral is a source, never a classifier class."""
