"""Which library files each rule runs, read from the code itself: a rule's `code` input.

Snakemake reruns a job when one of its inputs changes; with the library files its step runs among them,
editing the classifier reruns the classifier jobs and what follows them, never GAN training. The files are
found as Python finds them: the step a rule script hands to `run_step`, the modules its module imports at
the top and those its function imports inside, and from there every module each of those imports, at its top
or inside its functions, to the end. An import marked `# codemap: skip (<why>)` is not followed: a config
dataclass's builder (its trainer imports the network itself), a generator loaded from a file that is the
job's input (the code that trained it belongs to the job that made it). A module's templates, files beside it
named after it (`summary.md.j2` beside `summary.py`), come with it. Helpers whose fixes do not change
results (SHARED) are left out: force a rerun with `--forcerun <rule>` when one does.

Standard library only: the workflow reads this while it parses.
"""

from __future__ import annotations

import ast
import os
from functools import cache
from pathlib import Path

PACKAGE = "synthfer"
SHARED = frozenset({"synthfer.io", "synthfer.logs", "synthfer.runtime", "synthfer.seam", "synthfer.gpus"})
"""Logging, atomic writes, device choice, the seam and GPU assignment: a fix there never changes a result."""


@cache
def module_file(src: Path, module: str) -> Path | None:
    """The file of a synthfer module under `src`, or None when `module` is not one (a name in a module)."""
    base = src.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(node: ast.Import | ast.ImportFrom, src: Path) -> set[str]:
    """The synthfer modules one import statement brings in (`from synthfer.x import y` is synthfer.x.y when y is
    a module, else synthfer.x)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE}
    if node.level or not node.module or node.module.split(".")[0] != PACKAGE:
        return set()
    found = set()
    for alias in node.names:
        sub = f"{node.module}.{alias.name}"
        found.add(sub if module_file(src, sub) else node.module)
    return found


SKIP = "# codemap: skip"


def _statements(body: list[ast.stmt], into_functions: bool) -> list[ast.Import | ast.ImportFrom]:
    """Import statements of a block: at its top level and in its if/try/with blocks (not under TYPE_CHECKING);
    in nested functions and classes too when `into_functions`."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            found += _statements(node.orelse, into_functions)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if into_functions:
                found += _statements(node.body, into_functions)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    found += _statements(
                        [n for n in block if isinstance(n, ast.stmt | ast.ExceptHandler)], into_functions
                    )
            if isinstance(node, ast.ExceptHandler):
                found += _statements(node.body, into_functions)
    return found


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


@cache
def _lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text().splitlines())


def _followed(path: Path, nodes: list[ast.Import | ast.ImportFrom], src: Path) -> frozenset[str]:
    """The modules these import statements bring in, those marked SKIP left out."""
    lines = _lines(path)
    kept = [n for n in nodes if not any(SKIP in line for line in lines[n.lineno - 1 : n.end_lineno or n.lineno])]
    return frozenset().union(*(_imported(n, src) for n in kept))


@cache
def imports(src: Path, module: str, into_functions: bool) -> frozenset[str]:
    """What a module imports at its top (and inside its functions when `into_functions`), not under
    TYPE_CHECKING, not marked SKIP."""
    path = module_file(src, module)
    if path is None:
        return frozenset()
    return _followed(path, _statements(_tree(path).body, into_functions), src)


def closure(src: Path, modules: set[str]) -> set[str]:
    """`modules` and every synthfer module they import, at their top or in their functions, to the end."""
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        if module in seen or module_file(src, module) is None:
            continue
        seen.add(module)
        todo += imports(src, module, into_functions=True) - seen
        parent = module.rpartition(".")[0]
        if parent and parent != PACKAGE:  # importing a.b runs a/__init__.py
            todo.append(parent)
    return seen


def step_of(script: Path) -> tuple[str, str]:
    """(module, function) of the step a rule script runs: what it imports from synthfer.steps."""
    for node in _tree(script).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{PACKAGE}.steps."):
            return node.module, node.names[0].name
    raise LookupError(f"{script} imports no step from {PACKAGE}.steps")


def step_modules(src: Path, script: Path) -> set[str]:
    """The synthfer modules a rule script's step runs (see the module docstring), shared helpers left out."""
    module, function = step_of(script)
    path = module_file(src, module)
    if path is None:
        raise LookupError(f"{script}: {module} is not a module under {src}")
    own = [n for n in _tree(path).body if isinstance(n, ast.FunctionDef) and n.name == function]
    if not own:
        raise LookupError(f"{script}: {module} has no function {function}")
    inside = _followed(path, _statements(own[0].body, into_functions=True), src)
    # the step's module itself is not expanded: its other functions' imports belong to their own steps
    reached = closure(src, {*imports(src, module, into_functions=False), *inside} - {module})
    return ({module, module.rpartition(".")[0]} | reached) - SHARED


def files_of(src: Path, module: str) -> list[Path]:
    """A module's file and the templates beside it named after it (`summary.py`: `summary.md.j2`,
    `summary.sections.md.j2`): editing a template reruns what the module renders."""
    path = module_file(src, module)
    if path is None:
        return []
    if path.name == "__init__.py":
        return [path]
    return [path, *sorted(path.parent.glob(f"{path.stem}.*.j2"))]


def code_map(src: Path, scripts: Path, relative_to: Path | None = None) -> dict[str, list[str]]:
    """{rule script name: the library files its step runs, sorted}: what each rule lists as its `code` input.
    `relative_to` (the workflow's working directory): the paths relative to it, so that Snakemake's records of a
    job's inputs still match after the project folder is moved or copied elsewhere (an absolute path would make
    every job's input set look changed, and rerun the whole study)."""

    def named(path: Path) -> str:
        return os.path.relpath(path, relative_to) if relative_to is not None else str(path)

    return {
        script.stem: sorted(named(f) for m in step_modules(src, script) for f in files_of(src, m))
        for script in sorted(scripts.glob("*.py"))
    }


def own_files(mapping: dict[str, list[str]], script: str) -> list[str]:
    """The files of `script`'s entry that no other rule script runs."""
    others = {f for name, files in mapping.items() if name != script for f in files}
    return [f for f in mapping[script] if f not in others]
