"""One GPU per job on a multi-GPU workstation.

Snakemake counts GPU jobs (`resources: gpu=1`, `--resources gpu=N`) but never says which GPU a job should
use, so without this every job lands on GPU 0. Each GPU job takes an exclusive lock on one device
(`flock` on a file per device in a machine-wide folder, released by the kernel when the job ends, even
on SIGKILL) and sets CUDA_VISIBLE_DEVICES to it before CUDA starts.

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


def claim_gpu(
    candidates: list[str], lock_dir: Path | None = None, wait_s: float = 24 * 3600, poll_s: float = 1.0
) -> str:
    """Lock the first free device of `candidates` for the rest of this process; waits while all are taken."""
    lock_dir = LOCK_DIR if lock_dir is None else lock_dir
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    waited = False
    while True:
        for device in candidates:
            handle = open(lock_dir / f"gpu{device.replace('/', '_')}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            _held.append(handle)
            return device
        if time.monotonic() > deadline:
            raise TimeoutError(f"no free GPU among {candidates} after {wait_s:.0f} s (locks in {lock_dir})")
        if not waited:
            log.info("all GPUs %s are taken by other jobs; waiting for one", candidates)
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
    device = claim_gpu(candidates, lock_dir_for())
    os.environ["CUDA_VISIBLE_DEVICES"] = device
    log.info("GPU %s of %s (%s) assigned to this job (CUDA_VISIBLE_DEVICES=%s)", device, candidates, where, device)
    return device
