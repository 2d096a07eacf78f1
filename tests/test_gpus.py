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
    holder = subprocess.Popen([sys.executable, "-c", f"from pathlib import Path; from synthfer.gpus import claim_gpu; print(claim_gpu(['3'], Path({str(tmp_path)!r})), flush=True); import time; time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
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
