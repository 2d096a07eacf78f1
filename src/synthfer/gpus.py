"""Several jobs per GPU, spread over the GPUs of a workstation.

Snakemake counts GPU jobs (`resources: gpu=1`, `--resources gpu=N`) but never says which GPU a job should
use, so without this every job lands on GPU 0. A device takes `jobs_per_gpu` jobs at once (slots): the study's
networks are small, and one job alone leaves most of a large GPU idle. Each GPU job takes an exclusive lock on
one slot (`flock` on a file per device and slot in a machine-wide folder, released by the kernel when the job
ends, even on SIGKILL), the free slot on the least busy device first, and sets CUDA_VISIBLE_DEVICES to its
device before CUDA starts. `make run` passes `--resources gpu=<slots in all>` (slots_in_all).

Under SLURM the same rule holds, with the locks kept per allocation: a job the SLURM executor submitted sees
only its own GPU (one candidate, never contended), while Snakemake started inside one allocation
(`salloc --gpus=4`, then `snakemake --cores ...`) shares that allocation's GPUs out among its concurrent jobs
exactly as on a workstation. Keying the locks by SLURM job keeps two allocations on one node, whose device
numbers are each relative to their own view, from blocking each other.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

log = logging.getLogger("synthfer")

JOBS_PER_GPU = "SYNTHFER_JOBS_PER_GPU"
"""Environment variable: how many jobs share one device (a positive integer); unset: default_jobs_per_gpu."""
JOB_MEMORY_GIB = 8.0
"""Device memory set aside per job for the default: the largest measured job peak (the paper-size identity GAN,
3.1 GiB; gpu_proof's `gans` step) plus a CUDA context, doubled for what the proof did not measure."""
MAX_JOBS_PER_GPU = 8
"""The default's ceiling: beyond this the jobs' host threads, not the device, are what runs out."""

LOCK_DIR = Path(os.environ.get("SYNTHFER_GPU_LOCK_DIR", Path(tempfile.gettempdir()) / "synthfer-gpu-locks"))
_held: list[IO] = []  # open lock files: the locks last as long as the process


def visible_gpus(env: dict[str, str] | None = None) -> list[str]:
    """Devices this job may choose from: CUDA_VISIBLE_DEVICES when set, else every GPU nvidia-smi lists."""
    env = os.environ if env is None else env
    if env.get("CUDA_VISIBLE_DEVICES") is not None:
        return [d.strip() for d in env["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(row for row in listing.splitlines() if row.startswith("GPU "))]


def default_jobs_per_gpu(memory_gib: float) -> int:
    """Jobs one device of `memory_gib` takes at once by default: JOB_MEMORY_GIB each, 1 to MAX_JOBS_PER_GPU."""
    return max(1, min(MAX_JOBS_PER_GPU, int(memory_gib // JOB_MEMORY_GIB)))


def gpu_memory_gib() -> list[float]:
    """Each visible GPU's memory (GiB), from nvidia-smi; [] without one."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [float(line) / 1024 for line in listing.split() if line.strip().replace(".", "", 1).isdigit()]


def jobs_per_gpu(env: dict[str, str] | None = None, memory_gib: list[float] | None = None) -> int:
    """Jobs one device takes at once: SYNTHFER_JOBS_PER_GPU when set, else the default for the smallest visible
    GPU's memory (1 when none is visible). A value that is not a positive integer is an error naming the variable."""
    env = os.environ if env is None else env
    if env.get(JOBS_PER_GPU, "").strip():
        value = env[JOBS_PER_GPU].strip()
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{JOBS_PER_GPU}={value!r}: must be a positive integer (jobs that share one GPU)")
        return int(value)
    memory = gpu_memory_gib() if memory_gib is None else memory_gib
    return default_jobs_per_gpu(min(memory)) if memory else 1


def slots_in_all(env: dict[str, str] | None = None) -> int:
    """What `--resources gpu=` should be: GPUs x jobs per GPU; without a GPU, the CPU's cores (GPU rules run on
    the CPU then, one thread each at least)."""
    gpus = visible_gpus(env)
    return len(gpus) * jobs_per_gpu(env) if gpus else os.cpu_count() or 1


def claim_gpu(
    candidates: list[str],
    lock_dir: Path | None = None,
    wait_s: float = 24 * 3600,
    poll_s: float = 1.0,
    slots: int = 1,
) -> str:
    """Lock a free slot of one of `candidates` (each takes `slots` jobs) for the rest of this process, the least
    busy device first; waits while every slot is taken."""
    lock_dir = LOCK_DIR if lock_dir is None else lock_dir
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    waited = False
    while True:
        for slot in range(slots):  # slot 0 of every device before slot 1 of any: jobs spread over the devices
            for device in candidates:
                handle = open(lock_dir / f"gpu{device.replace('/', '_')}.slot{slot}.lock", "a")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                _held.append(handle)
                return device
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"no free GPU slot among {candidates} ({slots} each) after {wait_s:.0f} s (locks in {lock_dir})"
            )
        if not waited:
            log.info("all %d slots of GPUs %s are taken by other jobs; waiting for one", slots, candidates)
            waited = True
        time.sleep(poll_s)


def lock_dir_for(env: dict[str, str] | None = None) -> Path:
    """Where this job's device locks live: one folder per SLURM allocation (its device numbers are its own),
    the machine-wide folder otherwise."""
    env = os.environ if env is None else env
    job = env.get("SLURM_JOB_ID")
    return LOCK_DIR / f"slurm-{job}" if job else LOCK_DIR


def assign_gpu() -> str | None:
    """Give this GPU job a device of its own (sets CUDA_VISIBLE_DEVICES); None when it runs on the CPU."""
    candidates = visible_gpus()
    where = f"SLURM job {os.environ['SLURM_JOB_ID']}" if os.environ.get("SLURM_JOB_ID") else "this machine"
    if not candidates:
        log.info("no GPU visible on %s: this GPU rule runs on the CPU", where)
        return None
    slots = jobs_per_gpu()
    device = claim_gpu(candidates, lock_dir_for(), slots=slots)
    os.environ["CUDA_VISIBLE_DEVICES"] = device
    log.info(
        "GPU %s of %s (%s, %d jobs per GPU) assigned to this job (CUDA_VISIBLE_DEVICES=%s)",
        device,
        candidates,
        where,
        slots,
        device,
    )
    return device
