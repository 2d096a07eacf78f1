"""What made a result: commit, package versions, machine. Recorded beside every report."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
"""The synthfer checkout this code runs from: its commit is what made a result, wherever the run directory is."""

PACKAGES = ("torch", "torchvision", "numpy", "pandas", "scikit-learn", "seaborn", "snakemake", "mediapipe", "pillow")


def git_commit(repo: str | Path = CHECKOUT) -> str:
    """HEAD commit, with '+dirty' when tracked files differ; 'unknown' outside a git checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(repo: str | Path = CHECKOUT) -> dict[str, object]:
    import torch

    return {
        "commit": git_commit(repo),
        "versions": versions(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }
