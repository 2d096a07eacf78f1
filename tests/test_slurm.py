"""The SLURM profile on a real SLURM: a one-node cluster on 127.0.0.1 with a fake GPU.

The cluster is started by tests/slurm/local_cluster.sh, which installs slurm-wlm and munge with apt when
they are missing; the test is skipped (with the reason) only where that cannot work (no root, no apt).
The profile used is profiles/slurm/config.yaml with only its EDIT-marked values (account, partitions)
and the sizes this 2-core machine cannot grant (CPUs, memory) replaced.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny_config.yaml"
GPU_RULES = {"train_stargan", "train_identity_gan", "generate_faces", "train_classifier", "evaluate_classifier", "evaluate_generated"}


@pytest.fixture(scope="module")
def slurm(tmp_path_factory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("slurm")
    script = ROOT / "tests" / "slurm" / "local_cluster.sh"
    started = subprocess.run(["bash", str(script), "start", str(state)], capture_output=True, text=True, timeout=900)
    if started.returncode == 3:
        pytest.skip(started.stderr.strip().splitlines()[-1])
    assert started.returncode == 0, started.stdout + started.stderr
    env = {**os.environ, "SLURM_CONF": "/etc/slurm/slurm.conf"}
    yield env
    subprocess.run(["bash", str(script), "stop", str(state)], capture_output=True, timeout=60)


def _test_profile(dest: Path) -> Path:
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    profile["default-resources"].update(slurm_account="none", slurm_partition="debug", mem_mb=1000, cpus_per_task=1)
    for resources in profile["set-resources"].values():
        resources.update(slurm_partition="debug", cpus_per_task=1, mem_mb=1500)
    profile["set-threads"] = {rule: 1 for rule in profile["set-threads"]}
    profile.update({"slurm-status-command": "squeue", "slurm-init-seconds-before-status-checks": 2, "jobs": 4, "latency-wait": 5})
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile))
    return dest


def _jobs(env: dict[str, str]) -> list[dict[str, str]]:
    """Every job slurmctld still knows (MinJobAge=600 keeps finished ones), as key=value fields."""
    out = subprocess.run(["scontrol", "show", "job", "--oneliner"], capture_output=True, text=True, env=env, check=True).stdout
    return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in out.splitlines() if line.strip()]


def test_the_tiny_study_runs_through_the_slurm_profile_and_resumes_a_cancelled_gan(slurm, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    # a smaller study than the workstation test: every job costs a SLURM round trip on this 2-core machine
    for name in ("real_b", "cross_b"):
        del config["datasets"][name]
    config["roles"].update(real_train=["real_a"], cross_test=["cross_a"])
    config["experiment"].update(ratios=[0, 1], seeds=[0], synthetic_only=False)
    config["translators"] = ["stargan"]
    config.pop("minority")
    config["stargan"].update(iterations=600, checkpoint_every=20, log_every=20, sample_every=300)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--configfile", str(config_path),
           "--workflow-profile", str(_test_profile(tmp_path / "profile"))]
    run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=slurm)

    # stop the StarGAN job as a time limit or an admin would, once it has checkpointed
    checkpoint = workdir / "results/gan/stargan/progress/checkpoint.pt"
    deadline = time.monotonic() + 600
    while not checkpoint.exists():
        assert run.poll() is None, run.stdout.read()[-5000:]
        assert time.monotonic() < deadline, "StarGAN never checkpointed"
        time.sleep(0.5)
    stargan = [j["JobId"] for j in _jobs(slurm) if j.get("Comment", "").startswith("rule_train_stargan") and j.get("JobState") == "RUNNING"]
    assert len(stargan) == 1
    subprocess.run(["scancel", stargan[0]], env=slurm, check=True)

    output, _ = run.communicate(timeout=1500)
    assert run.returncode == 0, output[-5000:]
    for name in ("metrics.csv", "metrics_summary.csv", "accuracy_vs_ratio.png", "samples_stargan.png", "generated_fidelity.csv", "summary.md"):
        assert (workdir / "results/report" / name).stat().st_size > 0, name
    assert "resuming from" in (workdir / "results/logs/train_stargan.log").read_text()

    jobs = [j for j in _jobs(slurm) if j.get("Comment", "").startswith("rule_")]
    by_rule: dict[str, list[dict[str, str]]] = {}
    for job in jobs:
        by_rule.setdefault(job["Comment"].removeprefix("rule_").split("_wildcards_")[0], []).append(job)
    assert GPU_RULES <= set(by_rule), sorted(by_rule)
    for rule, submitted in by_rule.items():
        for job in submitted:
            asks_gpu = "gres:gpu:1" in job.get("TresPerJob", "") or "gres/gpu=1" in job.get("TRES", "")
            assert asks_gpu == (rule in GPU_RULES), (rule, job.get("TresPerJob"), job.get("TRES"))
    assert len(by_rule["train_stargan"]) == 2  # cancelled once, resubmitted by the profile's retries
    assert {j["JobState"] for j in by_rule["train_stargan"]} == {"CANCELLED", "COMPLETED"}
