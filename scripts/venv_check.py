"""Is the virtual environment at VENV one `make install` can use? Run by the Python that would make it anew.

usage: python scripts/venv_check.py VENV

Prints nothing and exits 0 when VENV is missing (make creates it) or usable: its Python runs, is a version
pyproject.toml's requires-python admits, and has pip. Otherwise prints why (one line) and exits 1, and the Makefile
makes it anew: a `python -m venv` killed half-way leaves a Python without pip, and a venv of a Python the project
refuses stays in the way of every later `make install PYTHON=...`. Exits 2 when the Python running this is itself
one the project refuses, with what to run instead. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def supported() -> tuple[tuple[int, int], tuple[int, int]]:
    """(lowest, first refused) Python versions from pyproject.toml's `requires-python = ">=3.a,<3.b"`."""
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low = re.search(r">=\s*(\d+)\.(\d+)", spec)
    high = re.search(r"<\s*(\d+)\.(\d+)", spec)
    return (int(low[1]), int(low[2])), (int(high[1]), int(high[2])) if high else (99, 0)


def problem(venv: Path) -> str | None:
    """Why `venv` cannot be used, or None."""
    python = venv / "bin" / "python"
    if not venv.exists():
        return None
    if not python.exists():
        return f"{venv} has no bin/python"
    low, high = supported()
    try:
        run = subprocess.run(
            [str(python), "-c", "import sys; print(*sys.version_info[:2]); import pip"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError as error:
        return f"{python} does not run ({error})"
    words = run.stdout.split()
    if len(words) < 2:
        return f"{python} does not run ({(run.stderr.strip().splitlines() or ['no output'])[-1]})"
    version = (int(words[0]), int(words[1]))
    if not low <= version < high:
        return f"{venv} is of Python {version[0]}.{version[1]}; this project needs >= {low[0]}.{low[1]}, < {high[0]}.{high[1]}"
    if run.returncode != 0:
        return f"{venv} has no pip (an interrupted install?)"
    return None


def main() -> int:
    low, high = supported()
    if not low <= sys.version_info[:2] < high:
        print(
            f"make install: {sys.executable} is Python {sys.version_info[0]}.{sys.version_info[1]}; this project needs "
            f">= {low[0]}.{low[1]}, < {high[0]}.{high[1]}: run `make install PYTHON=python{low[0]}.{low[1]}`",
            file=sys.stderr,
        )
        return 2
    why = problem(Path(sys.argv[1]))
    if why:
        print(why)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
