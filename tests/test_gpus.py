"""Each GPU job on a multi-GPU workstation gets a device of its own (Snakemake does not choose one)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from synthfer import gpus


def test_concurrent_jobs_get_different_devices_and_wait_when_all_are_taken(tmp_path):
    first = gpus.claim_gpu(["0", "1"], tmp_path)
    second = gpus.claim_gpu(["0", "1"], tmp_path)
    assert {first, second} == {"0", "1"}
    with pytest.raises(TimeoutError, match="no free GPU"):
        gpus.claim_gpu(["0", "1"], tmp_path, wait_s=0.2, poll_s=0.05)
    for handle in gpus._held[-2:]:
        handle.close()  # what the kernel does when a job ends
    assert gpus.claim_gpu(["0", "1"], tmp_path) in {"0", "1"}


def test_a_killed_job_frees_its_device(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from synthfer.gpus import claim_gpu; "
            f"print(claim_gpu(['3'], Path({str(tmp_path)!r})), flush=True); import time; time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "3"
    with pytest.raises(TimeoutError):
        gpus.claim_gpu(["3"], tmp_path, wait_s=0.2, poll_s=0.05)
    holder.kill()
    holder.wait()
    start = time.monotonic()
    assert gpus.claim_gpu(["3"], tmp_path, wait_s=10, poll_s=0.05) == "3" and time.monotonic() - start < 10


def test_visible_devices_respect_the_users_choice():
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_without_a_gpu_the_job_says_it_runs_on_the_cpu(monkeypatch, caplog):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setattr(gpus, "visible_gpus", lambda env=None: [])
    with caplog.at_level(logging.INFO, logger="synthfer"):
        assert gpus.assign_gpu() is None
    assert "runs on the CPU" in caplog.text


def test_a_job_is_pinned_to_the_device_it_locked(monkeypatch, tmp_path):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,6")
    monkeypatch.setattr(gpus, "LOCK_DIR", tmp_path)
    gpus.claim_gpu(["5"], tmp_path)  # another job holds GPU 5
    assert gpus.assign_gpu() == "6"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "6"


def test_jobs_inside_one_slurm_allocation_share_out_its_gpus(monkeypatch, tmp_path):
    """`salloc --gpus=4` then `snakemake --cores ...`: concurrent jobs must not all land on cuda:0."""
    monkeypatch.setattr(gpus, "LOCK_DIR", tmp_path)
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    given = []
    for _ in range(4):  # four concurrent GPU jobs of one Snakemake run inside the allocation
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
        given.append(gpus.assign_gpu())
    assert sorted(given) == ["0", "1", "2", "3"]
    assert os.environ["CUDA_VISIBLE_DEVICES"] == given[-1]
    with pytest.raises(TimeoutError):  # a fifth waits for one of them
        gpus.claim_gpu(["0", "1", "2", "3"], gpus.lock_dir_for(), wait_s=0.2, poll_s=0.05)


def test_a_job_the_slurm_executor_submitted_keeps_its_own_gpu(monkeypatch, tmp_path):
    """Each sbatch job sees only the GPU SLURM gave it, numbered in its own view; another allocation on the
    same node using the same number must not make it wait."""
    monkeypatch.setattr(gpus, "LOCK_DIR", tmp_path)
    monkeypatch.setenv("SLURM_JOB_ID", "100")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert gpus.assign_gpu() == "0"
    monkeypatch.setenv("SLURM_JOB_ID", "101")  # a second job on the node, also told "0"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    start = time.monotonic()
    assert gpus.claim_gpu(gpus.visible_gpus(), gpus.lock_dir_for(), wait_s=2, poll_s=0.05) == "0"
    assert time.monotonic() - start < 1
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
