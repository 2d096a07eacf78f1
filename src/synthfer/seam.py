"""The one seam between a Snakemake job and the library: a rule's names bound, by keyword, to a typed step.

A rule declares each file and setting once, under the name its step function takes: `input:`, `output:`,
`params:` and `wildcards` by name, `threads` and the `gpu` resource by their own names, named logs (other than
the job's own) by name. The step's annotations say how a value arrives: a wildcard annotated `int` becomes an
int, a dict param annotated with a config dataclass becomes that dataclass, files annotated `list[...]` come as a
list. Every rule script is then two lines (the classifier and GAN ones three: their OpenMP waiting set first),
and a new setting is one name in the rule and one in the step.

Kept free of heavy imports: every job imports it before anything else.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

NAMESPACES = ("input", "output", "params", "wildcards", "log")
"""Where a rule's names come from, in the order the error messages list them."""

MUST_BE_TAKEN = ("output", "params")
"""Names a step must take: an output it does not write or a setting it ignores is a mistake in the rule. Inputs and
wildcards may be there for Snakemake alone (code files that rerun a job, a wildcard that only names a folder)."""

FOR_SNAKEMAKE_ONLY = "_stamp"
"""A param whose name ends so is there only to make Snakemake rerun the job when it changes (a file's size and
mtime): no step takes it."""


class SeamError(TypeError):
    """A rule and its step do not agree on names: raised before the step runs, naming both sides."""


def named(entries: Any) -> dict[str, Any]:
    """The named entries of a Snakemake Namedlist (input, output, params, wildcards, log) or of a plain mapping."""
    if entries is None:
        return {}
    if isinstance(entries, Mapping):
        return dict(entries)
    if not hasattr(entries, "items"):  # a plain list: nothing named
        return {}
    return {name: value for name, value in entries.items()}


def _plain(value: Any) -> Any:
    """Snakemake's file and list types as plain str and list, so that the library sees what a test would pass."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):  # Snakemake's Namedlist is a list
        return [_plain(v) for v in value]
    return value


def _hints(step: Callable[..., Any]) -> dict[str, Any]:
    """The step's resolved annotations; an annotation that cannot be resolved is a bug in the step, said here."""
    try:
        return typing.get_type_hints(step)
    except NameError as error:
        raise SeamError(
            f"{step.__module__}.{step.__qualname__}: an annotation names something not imported at run time "
            f"({error}); import it outside TYPE_CHECKING so that the seam can convert the rule's values"
        ) from None


def _is_optional_none(annotation: Any, value: Any) -> bool:
    return value is None and type(None) in typing.get_args(annotation)


def convert(value: Any, annotation: Any) -> Any:
    """`value` from a rule as the step's annotation wants it (see the module docstring); anything else unchanged."""
    if annotation is inspect.Parameter.empty or annotation is Any or _is_optional_none(annotation, value):
        return value
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        candidates = [a for a in args if a is not type(None)]
        # a union of paths (str | os.PathLike) or of numbers leaves the value as it is
        if all(a in (str, os.PathLike, int, float, bool) or typing.get_origin(a) is os.PathLike for a in candidates):
            return value
        return convert(value, candidates[0]) if len(candidates) == 1 else value
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type) and isinstance(value, Mapping):
        fields = typing.get_type_hints(annotation)
        return annotation(**{key: convert(v, fields.get(key, Any)) for key, v in value.items()})
    if origin is list:
        items = list(value) if isinstance(value, list | tuple) else [value]
        return [convert(v, args[0]) for v in items] if args else items
    if origin is tuple and isinstance(value, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(v, args[0]) for v in value)
        return tuple(convert(v, a) for v, a in zip(value, args, strict=False)) if args else tuple(value)
    if origin is dict or annotation is dict:
        return dict(value) if isinstance(value, Mapping) else value
    if annotation in (int, float) and isinstance(value, str):
        return annotation(value)
    if annotation is Path and isinstance(value, str):
        return Path(value)
    return value


def bind(step: Callable[..., Any], job: Any) -> dict[str, Any]:
    """The keyword arguments of `step` from a Snakemake job (the `snakemake` object of a script, or any object
    with the same attributes). Raises SeamError naming what the rule lacks, what it has twice and what the step
    does not take, before any work is done."""
    signature = inspect.signature(step)
    hints = _hints(step)
    spaces = {space: named(getattr(job, space, None)) for space in NAMESPACES}
    spaces["log"].pop("log", None)  # the job's own log: run_step writes to it
    spaces["job"] = {"threads": getattr(job, "threads", 1), "gpu": _gpus(job)}
    name_of = f"{step.__module__}.{step.__qualname__}"
    found: dict[str, Any] = {}
    for name, parameter in signature.parameters.items():
        where = [space for space, values in spaces.items() if name in values]
        if len(where) > 1:
            raise SeamError(f"{name_of}: {name!r} is in the rule's {' and '.join(where)}; rename one of them")
        if where:
            found[name] = convert(_plain(spaces[where[0]][name]), hints.get(name, parameter.annotation))
        elif parameter.default is inspect.Parameter.empty:
            raise SeamError(
                f"{name_of} takes {name!r}, which the rule does not declare in its {', '.join(NAMESPACES)} "
                f"(names there: {sorted(set().union(*spaces.values()))})"
            )
    for space in MUST_BE_TAKEN:
        unused = sorted(
            name
            for name in set(spaces[space]) - set(signature.parameters)
            if not (space == "params" and name.endswith(FOR_SNAKEMAKE_ONLY))
        )
        if unused:
            raise SeamError(
                f"{name_of} does not take the rule's {space} {unused}; it takes {list(signature.parameters)}"
            )
    return found


def _gpus(job: Any) -> int:
    """The job's `gpu` resource (0 when the rule has none)."""
    return int(named(getattr(job, "resources", None)).get("gpu", 0) or 0)


def job_log(job: Any) -> str | None:
    """The job's own log file: the log named `log`, else the first one."""
    logs = getattr(job, "log", None)
    if not logs:
        return None
    return str(named(logs).get("log", logs[0]))


OPENMP_WAIT = "OMP_WAIT_POLICY"
OPENMP_SPINS = "GOMP_SPINCOUNT"
SPINS_WHEN_THREADED = {OPENMP_SPINS: "30000"}
"""How a training or evaluation job of several threads has its OpenMP threads wait: spinning 30,000 times before
they sleep (libgomp, the OpenMP of PyTorch's Linux wheels, spins 300,000 by default)."""


def spin_briefly_when_threaded(job: Any) -> None:
    """In a job of more than one thread, set SPINS_WHEN_THREADED unless the environment already says how OpenMP
    threads wait (OMP_WAIT_POLICY or GOMP_SPINCOUNT). Why (scripts/job_threads.py, docs/performance.md): with
    libgomp's default a second thread made every job of the demo slower than one thread on a machine busy with
    other work (0.66-0.85x), OMP_WAIT_POLICY=PASSIVE lost on a quiet one and on a busy one, and 30,000 spins gained
    on both (1.02-1.58x). Torch's OpenMP reads the setting once, when it loads: hence an error, not a silent
    no-op, once torch is imported."""
    if int(getattr(job, "threads", 1)) <= 1 or OPENMP_WAIT in os.environ or OPENMP_SPINS in os.environ:
        return
    if "torch" in sys.modules:
        raise RuntimeError("GOMP_SPINCOUNT must be set before torch is imported: call spin_briefly_when_threaded first")
    os.environ.update(SPINS_WHEN_THREADED)


GLIBC_MALLOC_SETTINGS = ("MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
"""Environment variables by which a user tells glibc's malloc how to behave (besides `glibc.malloc.*` in
GLIBC_TUNABLES): reuse_freed_memory leaves them be."""


def _malloc_set_by_environment() -> bool:
    """The environment already chose: glibc's malloc settings, its `glibc.malloc.*` tunables, or a preloaded
    allocator (jemalloc, tcmalloc, mimalloc: each has `malloc` in its name; other preloads, such as Intel's
    OpenMP, do not count)."""
    return (
        any(name in os.environ for name in GLIBC_MALLOC_SETTINGS)
        or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")
        or "malloc" in os.environ.get("LD_PRELOAD", "")
    )


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # mallopt(3)


def reuse_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse in this process; True when it did.

    By default glibc maps every block above a threshold (128 KiB, rising to at most 32 MiB) freshly from the
    kernel and unmaps it when freed, and hands the heap's free top back too, so a training step that frees and
    re-allocates its activations, weights' bf16 copies and gradients touches new pages each time: 545 page
    faults per step of the demo's classifier (32 px, batch 16, one thread), 187,000 at 64 px, batch 256; 1.15x
    and 1.21x slower than with this setting (`make bench` measures both, each in a fresh process). With
    `mallopt(M_MMAP_MAX, 0)` every block comes from the heap and, with a trim threshold of 2 GiB, stays there
    for the next step. The cost: a job keeps its peak memory until it exits (each workflow job is a process of
    its own, so no more than that job's peak). PyTorch's performance guide suggests preloading jemalloc or
    tcmalloc for the same reason; this needs no library but the C one. Nothing is done where the environment
    already sets glibc's malloc or preloads another allocator (_malloc_set_by_environment), or under another C
    library (musl, macOS)."""
    if _malloc_set_by_environment():
        return False
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def run_step(job: Any, step: Callable[..., Any]) -> None:
    """Run `step` for one Snakemake job, its arguments bound by name (bind), with the job's log and threads."""
    from synthfer.logs import run_logged

    try:
        kwargs = bind(step, job)
    except SeamError as error:  # a workflow bug: say it where the job was started, not only in its log
        print(f"synthfer: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    # bound first: a step's own names (threads, step, ...) never meet run_logged's
    run_logged(job_log(job), getattr(job, "threads", 1), functools.partial(step, **kwargs), gpus=_gpus(job))
