"""What made a result: commit, package versions, machine. Recorded beside every report."""

from __future__ import annotations

import os
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
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def synthfer_version() -> str:
    """This package's version: as installed, else (a checkout run from `src/`, as on a GPU node without the venv)
    pyproject.toml's."""
    try:
        return metadata.version("synthfer")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"] if pyproject.is_file() else "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile", "avx512f", "avx2")
"""CPU flags that decide which bf16 kernels run: results trained in bf16 differ between CPUs with and without them."""


def cpu(cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, object]:
    """CPU model, the flags that choose torch's bf16 kernels, torch's kernel level and thread count."""
    import torch

    model, flags = platform.processor() or "unknown", set()
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("unknown", "", platform.processor()):
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
                break
    except OSError:
        pass
    return {
        "model": model,
        "bf16_flags": {f: f in flags for f in BF16_FLAGS},
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "logical_cpus": os.cpu_count(),
    }


def provenance(repo: str | Path = CHECKOUT) -> dict[str, object]:
    import torch

    return {
        "synthfer": synthfer_version(),
        "commit": git_commit(repo),
        "versions": versions(),
        "cpu": cpu(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "cuda_capability": ".".join(map(str, torch.cuda.get_device_capability(0)))
        if torch.cuda.is_available()
        else "none",
    }
