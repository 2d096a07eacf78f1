"""The seam between Snakemake and the library: a rule's names bound by keyword to its step, converted by the
step's annotations, and every mismatch named before any work; every job of the workflow binds."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from synthfer.data.store import FaceSet, read_one_store, read_stores, store_folders, write_face_set
from synthfer.seam import GLIBC_MALLOC_SETTINGS, SeamError, bind, job_log

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny_config.yaml"


@dataclass(frozen=True)
class Settings:
    lr: float = 0.1
    sizes: tuple[int, ...] = (1,)


def step(
    real: list[str], seed: int, settings: Settings, model: str, eyes: tuple[float, float], note: str | None = None
):
    return real, seed, settings, model, eyes, note


def job(**spaces) -> SimpleNamespace:
    base = {"input": {}, "output": {}, "params": {}, "wildcards": {}, "log": [], "threads": 1}
    return SimpleNamespace(**{**base, **spaces})


def test_names_are_bound_by_keyword_and_converted_by_the_steps_annotations():
    kwargs = bind(
        step,
        job(
            input={"real": "results/real/faces.csv", "code": ["a.py"]},  # one file for a list; code: Snakemake's only
            output={"model": "m.pt"},
            params={"settings": {"lr": 0.5, "sizes": [2, 3]}, "eyes": [0.3, 0.4]},
            wildcards={"seed": "7", "arm": "real"},  # arm: a folder name the step does not take
        ),
    )
    assert kwargs == {
        "real": ["results/real/faces.csv"],
        "seed": 7,
        "settings": Settings(lr=0.5, sizes=(2, 3)),
        "model": "m.pt",
        "eyes": (0.3, 0.4),
    }
    assert step(**kwargs)[5] is None  # the default kept


@pytest.mark.parametrize(
    "spaces, message",
    [
        ({"output": {"model": "m.pt"}, "params": {"eyes": [0, 0], "settings": {}}}, "takes 'real'"),
        (
            {
                "input": {"real": "r", "seed": "1"},
                "wildcards": {"seed": "1"},
                "output": {"model": "m"},
                "params": {"eyes": [0, 0], "settings": {}},
            },
            "'seed' is in the rule's input and wildcards",
        ),
        (
            {
                "input": {"real": "r"},
                "wildcards": {"seed": "1"},
                "output": {"model": "m", "history": "h"},
                "params": {"eyes": [0, 0], "settings": {}},
            },
            "does not take the rule's output ['history']",
        ),
        (
            {
                "input": {"real": "r"},
                "wildcards": {"seed": "1"},
                "output": {"model": "m"},
                "params": {"eyes": [0, 0], "settings": {}, "device": "cpu"},
            },
            "does not take the rule's params ['device']",
        ),
    ],
)
def test_a_rule_and_a_step_that_disagree_are_named_before_the_step_runs(spaces, message):
    with pytest.raises(SeamError) as error:
        bind(step, job(**spaces))
    assert message in str(error.value) and "test_seam.step" in str(error.value)


def test_a_stamp_param_is_for_snakemake_only():
    spaces = {
        "input": {"real": "r"},
        "wildcards": {"seed": "1"},
        "output": {"model": "m"},
        "params": {"eyes": [0, 0], "settings": {}, "archive_stamp": [1, 2]},
    }
    assert "archive_stamp" not in bind(step, job(**spaces))


def test_run_step_writes_the_jobs_log_and_a_mismatch_exits_before_running(tmp_path):
    """In a process of its own, as a job is: run_step sends the process's output to the job's log."""
    code = f"""
from pathlib import Path
from types import SimpleNamespace
from synthfer.seam import run_step

def write(text: str, out: str, threads: int) -> None:
    print("writing with", threads, "threads")
    Path(out).write_text(text)

def job(params):
    return SimpleNamespace(input={{}}, output={{"out": {str(tmp_path / "o.txt")!r}}}, params=params, wildcards={{}},
                           log=[{str(tmp_path / "job.log")!r}], threads=3)

run_step(job(PARAMS), write)
"""
    run = subprocess.run([sys.executable, "-c", code.replace("PARAMS", "{'text': 'hello'}")], timeout=60)
    assert run.returncode == 0 and (tmp_path / "o.txt").read_text() == "hello"
    assert "writing with 3 threads" in (tmp_path / "job.log").read_text()
    run = subprocess.run(
        [sys.executable, "-c", code.replace("PARAMS", "{'txt': 'x'}")], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1 and "write takes 'text', which the rule does not declare" in run.stderr
    assert job_log(SimpleNamespace(log=["a.log", "b.log"])) == "a.log"


def test_a_store_is_named_by_its_files_and_read_by_its_folder(tmp_path):
    import numpy as np
    import pandas as pd

    for name in ("a", "b"):
        faces = FaceSet(np.zeros((2, 4, 4), np.uint8), pd.DataFrame({"subject": [name, name]}))
        write_face_set(faces, tmp_path / name / "faces.npz", tmp_path / name / "faces.csv")
    files = [str(tmp_path / n / f) for n in ("a", "b") for f in ("faces.npz", "faces.csv")]
    assert store_folders(files) == [tmp_path / "a", tmp_path / "b"]
    assert [set(s.table["subject"]) for s in read_stores(files)] == [{"a"}, {"b"}]
    assert set(read_one_store(files[:2]).table["subject"]) == {"a"}
    with pytest.raises(ValueError, match="one face store"):
        read_one_store(files)


def _every_job_binds(config: dict, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "helpers" / "bind_every_job.py"),
            str(ROOT / "workflow" / "Snakefile"),
            str(path),
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["errors"] == []
    return report["jobs"]


def test_every_job_of_the_tiny_study_binds_to_its_step(tmp_path):
    jobs = _every_job_binds(yaml.safe_load(TINY.read_text()), tmp_path)
    assert {
        "render_demo_dataset",
        "train_stargan",
        "train_cyclegan",
        "train_identity_gan",
        "generate_faces",
        "train_classifier",
        "cross_validate_minority",
        "write_summary",
    } <= set(jobs)


def test_every_job_of_every_other_rule_binds_to_its_step(tmp_path):
    """The rules the tiny study leaves out: stacked seeds, selection and its controls, a local archive, the
    ambiguity filter, real-neutral identities."""
    config = yaml.safe_load(TINY.read_text())
    packed = tmp_path / "packed"
    packed.mkdir()
    (packed / "annotations.csv").write_text("file,subject,emotion\n")
    archive = tmp_path / "db.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(packed / "annotations.csv", "annotations.csv")
    config["datasets"]["cross_b"] = {"loader": "demo", "archive": str(archive)}
    config["datasets"]["real_b"]["filter_ambiguous"] = {"keep": 0.5, "folds": 2}
    config["experiment"]["stack_seeds"] = True
    config["selection"] = {"min_confidence": 0.1, "top_share": 0.5}
    config["controls"] = {"step_matched": True, "augmented": True, "balanced_selection": True, "oversampled": True}
    config["generate"]["identities"] = "real_neutral"
    jobs = _every_job_binds(config, tmp_path)
    assert {
        "fetch_dataset",
        "filter_ambiguous_faces",
        "train_classifiers_stacked",
        "evaluate_classifiers_stacked",
        "select_generated",
        "balance_selected",
        "generate_faces",
    } <= set(jobs)
    assert "train_identity_gan" not in jobs  # real-neutral identities train no identity GAN


TORCH_SCRIPTS = (  # every job that trains or evaluates a network, and may be given several threads
    "train_classifier",
    "train_classifiers_stacked",
    "evaluate_classifier",
    "evaluate_classifiers_stacked",
    "cross_validate_minority",
    "train_stargan",
    "train_cyclegan",
    "train_identity_gan",
)


@pytest.mark.parametrize("script", TORCH_SCRIPTS)
def test_a_job_of_several_threads_sets_how_long_its_openmp_threads_spin_while_they_wait(script):
    """Torch's OpenMP runtime reads the wait policy once, when it loads: OMP_DISPLAY_ENV makes it print what it
    read (GOMP_SPINCOUNT: how long a waiting thread spins; 0 = it sleeps at once), so this fails if a script
    sets the policy after importing torch, or not at all."""
    code = f"""
import runpy, types
import synthfer.seam as seam
seam.run_step = lambda job, step: __import__("torch").ones(2).sum()  # the job's step: not run here
runpy.run_path({str(ROOT / "workflow" / "scripts" / f"{script}.py")!r},
               init_globals={{"snakemake": types.SimpleNamespace(threads=THREADS)}})
"""

    def spins_read_by_openmp(threads: int, env: dict[str, str]) -> str:
        run = subprocess.run(
            [sys.executable, "-c", code.replace("THREADS", str(threads))],
            capture_output=True,
            text=True,
            timeout=120,
            env={
                **{k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")},
                "OMP_DISPLAY_ENV": "VERBOSE",
                **env,
            },
        )
        assert run.returncode == 0, run.stderr
        return next(line.split("=")[1].strip(" '") for line in run.stderr.splitlines() if "GOMP_SPINCOUNT" in line)

    assert spins_read_by_openmp(2, {}) == "30000"  # spin briefly, then sleep
    assert spins_read_by_openmp(1, {}) == "300000"  # one thread never waits on another: libgomp's default kept
    assert spins_read_by_openmp(2, {"OMP_WAIT_POLICY": "ACTIVE"}) == "30000000000"  # the user's setting is kept
    assert spins_read_by_openmp(2, {"GOMP_SPINCOUNT": "1000"}) == "1000"


def test_the_spin_count_set_after_torch_loaded_is_an_error_not_a_silent_no_op():
    code = "import torch, types; from synthfer.seam import spin_briefly_when_threaded as w; w(types.SimpleNamespace(threads=2))"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 1 and "must be set before torch is imported" in run.stderr


FAULTS_PER_REALLOCATION = """
import resource, sys
import torch
from synthfer.seam import reuse_freed_memory
reused = reuse_freed_memory() if sys.argv[1] == "reuse" else False
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
# 64 MiB: above the largest block glibc's default ever takes from its heap (32 MiB), as the activations of a
# batch of 256 at 64 px are; smaller blocks fault the same way when the sizes of a step vary
for _ in range(12):  # before counting: the heap settles after a few blocks (blocks of 64-byte alignment)
    torch.empty(1 << 24).fill_(1.0)
start = faults()
for _ in range(10):  # what a training step does: allocate a block, write it, free it
    torch.empty(1 << 24).fill_(1.0)
print(reused, (faults() - start) / 10)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_job_reuses_freed_memory_instead_of_faulting_in_new_pages_each_step():
    def run(mode: str, env: dict[str, str]) -> tuple[str, float]:
        clean = {
            k: v for k, v in os.environ.items() if k not in (*GLIBC_MALLOC_SETTINGS, "GLIBC_TUNABLES", "LD_PRELOAD")
        }
        out = subprocess.run(
            [sys.executable, "-c", FAULTS_PER_REALLOCATION, mode],
            capture_output=True,
            text=True,
            timeout=120,
            env=clean | env,
            check=True,
        ).stdout.split()
        return out[0], float(out[1])

    default_reused, default_faults = run("default", {})
    reused, faults = run("reuse", {})
    assert default_reused == "False" and default_faults > 8000  # a fresh mapping: 16,384 new 4 KiB pages a block
    assert reused == "True" and faults < 100
    assert run("reuse", {"MALLOC_MMAP_MAX_": "65536"})[0] == "False"  # the user's own malloc setting is kept
    assert run("reuse", {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"})[0] == "False"
    assert run("reuse", {"LD_PRELOAD": "libjemalloc-not-here.so"})[0] == "False"  # ld.so warns, runs on
    assert run("reuse", {"GLIBC_TUNABLES": "glibc.cpu.x86_shstk=0"})[0] == "True"  # not about malloc
