"""Each GPU job on a multi-GPU workstation gets a device of its own (Snakemake does not choose one)."""

from __future__ import annotations

import logging
import os
import re
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


def test_a_device_takes_as_many_jobs_as_it_has_slots_spread_over_the_devices(tmp_path):
    """Two fake devices of two slots each: four jobs at once, two on each (the least busy device first), and a
    fifth waits; a slot freed by a job's end (the kernel closes its lock) takes the next one."""
    first = len(gpus._held)  # locks this test takes start here
    held = [gpus.claim_gpu(["0", "1"], tmp_path, slots=2) for _ in range(4)]
    assert held == ["0", "1", "0", "1"]
    with pytest.raises(TimeoutError, match=r"no free GPU slot among \['0', '1'\] \(2 each\)"):
        gpus.claim_gpu(["0", "1"], tmp_path, wait_s=0.2, poll_s=0.05, slots=2)
    gpus._held.pop(first + 1).close()  # the job on device 1, slot 0 ends
    assert gpus.claim_gpu(["0", "1"], tmp_path, wait_s=1, poll_s=0.05, slots=2) == "1"
    for handle in gpus._held[-4:]:
        handle.close()
    del gpus._held[-4:]


def test_jobs_per_gpu_comes_from_the_setting_or_the_devices_memory():
    assert gpus.jobs_per_gpu({gpus.JOBS_PER_GPU: "3"}, memory_gib=[140.0]) == 3
    assert gpus.jobs_per_gpu({}, memory_gib=[140.4]) == gpus.MAX_JOBS_PER_GPU  # an H200: capped
    assert gpus.jobs_per_gpu({}, memory_gib=[80.0, 23.6]) == 2  # the smallest device decides: 23.6 GiB / 8 GiB
    assert gpus.jobs_per_gpu({}, memory_gib=[6.0]) == 1  # never fewer than one
    assert gpus.jobs_per_gpu({}, memory_gib=[]) == 1
    for bad in ("0", "-2", "two", "1.5"):
        with pytest.raises(ValueError, match=rf"SYNTHFER_JOBS_PER_GPU='{re.escape(bad)}': must be a positive integer"):
            gpus.jobs_per_gpu({gpus.JOBS_PER_GPU: bad}, memory_gib=[140.0])


def test_slots_in_all_is_gpus_times_jobs_per_gpu_and_the_cores_without_a_gpu(monkeypatch):
    env = {"CUDA_VISIBLE_DEVICES": "0,1", gpus.JOBS_PER_GPU: "3"}
    assert gpus.slots_in_all(env) == 6
    assert gpus.slots_in_all({"CUDA_VISIBLE_DEVICES": "", gpus.JOBS_PER_GPU: "3"}) == (os.cpu_count() or 1)


def test_an_assigned_job_says_how_many_jobs_share_its_device(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")
    monkeypatch.setenv(gpus.JOBS_PER_GPU, "4")
    monkeypatch.setattr(gpus, "LOCK_DIR", tmp_path)
    with caplog.at_level(logging.INFO, logger="synthfer"):
        assert gpus.assign_gpu() == "5"
    assert "4 jobs per GPU" in caplog.text and os.environ["CUDA_VISIBLE_DEVICES"] == "5"
    assert (tmp_path / "gpu5.slot0.lock").exists()
    gpus._held.pop().close()
