"""Every loader's options, declared once as JSON schema: keys, types, allowed values, defaults, meaning.

The config check validates `datasets.<name>.options` against this before any job runs, so a misspelt key or
a wrong value is named instead of being ignored; the loaders take their defaults from here; docs/datasets.md's
options table is tested against it. Imports nothing heavy: the workflow reads it while it parses.
"""

from __future__ import annotations

import copy
from typing import Any


def _list_of(values: list, default: list, description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"enum": values},
        "minItems": 1,
        "uniqueItems": True,
        "default": default,
        "description": description,
    }


_APEX = {"type": "integer", "minimum": 1}
_NEUTRAL_FIRST = {
    "type": "boolean",
    "default": False,
    "description": "also take each sequence's first frame as a neutral face",
}

OPTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "demo": {},
    "rafd": {
        "angles": _list_of([0, 45, 90, 135, 180], [90], "camera angles to keep (90 = the frontal camera)"),
        "gazes": _list_of(["frontal", "left", "right"], ["frontal"], "gaze directions to keep"),
    },
    "kdef": {
        "angles": _list_of(["FL", "HL", "S", "HR", "FR"], ["S"], "camera angles to keep (S = straight)"),
        "sessions": _list_of(["A", "B"], ["A", "B"], "photo sessions to keep (the same people in both)"),
    },
    "jaffe": {},
    "oulu": {
        "modality": {"enum": ["VL", "NI"], "default": "VL", "description": "VL = visible light, NI = near infrared"},
        "lighting": _list_of(["Strong", "Weak", "Dark"], ["Strong"], "lighting conditions to keep"),
        "apex_frames": {**_APEX, "default": 3, "description": "the last n frames of a sequence carry its emotion"},
        "neutral_first_frame": _NEUTRAL_FIRST,
    },
    "ckplus": {
        "apex_frames": {
            **_APEX,
            "default": 1,
            "description": "the last n frames of a labelled sequence carry its emotion (the last is the peak)",
        },
        "neutral_first_frame": _NEUTRAL_FIRST,
    },
    "mmi": {
        "apex_frames": {**_APEX, "default": 1, "description": "the n frames around the middle of a video (its apex)"},
        "dual_view": {
            "type": "object",
            "additionalProperties": {"enum": ["left", "right"]},
            "default": {},
            "description": "sessions whose frames show two views side by side, with the half to keep (left or right)",
        },
        "rotate": {
            "type": "object",
            "additionalProperties": {"enum": [90, 180, 270]},
            "default": {},
            "description": "sessions recorded turned, with the degrees counter-clockwise that undo it",
        },
        "views": _list_of(
            [0, 1, 2], [0, 2], "camera views kept, as session.xml codes them: 0 frontal, 1 profile, 2 both side by side"
        ),
    },
    "affectnet": {
        "csv": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "default": ["training.csv", "validation.csv"],
            "description": "the annotation files to read, in the dataset folder",
        },
    },
    "fer2013": {
        "usage": _list_of(
            ["Training", "PublicTest", "PrivateTest"],
            ["Training", "PublicTest", "PrivateTest"],
            "the csv's Usage values to keep (the folder release: train = Training, test = PrivateTest)",
        ),
    },
    "folder": {
        "subject_regex": {
            "type": "string",
            "default": "",
            "description": "a regular expression whose first group is the subject in a file name (none: every image its own subject)",
        },
    },
}
"""loader -> option -> JSON schema with `default` and `description`."""


def options_schema(loader: str) -> dict[str, Any]:
    """The JSON schema of one loader's `options:` mapping: its keys only, each with its type and values."""
    return {"type": "object", "additionalProperties": False, "properties": OPTIONS[loader]}


def resolve_options(loader: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """The options a loader runs with: the given ones over the declared defaults (copied: loaders may not
    change the declaration)."""
    given = options or {}
    return {key: copy.deepcopy(given.get(key, spec.get("default"))) for key, spec in OPTIONS[loader].items()}


def _values(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return " / ".join(map(str, spec["enum"]))
    if spec.get("type") == "array":
        return "list of " + (_values(spec["items"]) if "enum" in spec["items"] else spec["items"]["type"] + "s")
    if spec.get("type") == "object":
        return "{session: " + _values(spec["additionalProperties"]) + "}"
    return spec["type"] + (f" >= {spec['minimum']}" if "minimum" in spec else "")


def options_markdown() -> str:
    """docs/datasets.md's table of every loader option, made from the declaration (a test keeps them equal)."""
    lines = ["| loader | option | values | default | meaning |", "|---|---|---|---|---|"]
    for loader, options in OPTIONS.items():
        for key, spec in options.items():
            default = spec.get("default")
            shown = (
                "none"
                if default in ("", {}, None)
                else ", ".join(map(str, default))
                if isinstance(default, list)
                else str(default).lower()
                if isinstance(default, bool)
                else str(default)
            )
            lines.append(f"| `{loader}` | `{key}` | {_values(spec)} | {shown} | {spec['description']} |")
    return "\n".join(lines)
