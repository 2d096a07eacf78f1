"""The SLURM profile on a real SLURM: a one-node cluster on 127.0.0.1 with a fake GPU.

The cluster is started by tests/slurm/local_cluster.sh, which installs slurm-wlm and munge with apt when
they are missing; the test is skipped (with the reason) only where that cannot work (no root, no apt).
The profile used is profiles/slurm/config.yaml with only its EDIT-marked values (account, partitions)
and the sizes this 2-core machine cannot grant (CPUs, memory) replaced.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny_config.yaml"
GPU_RULES = {
    "train_stargan",
    "generate_faces",
    "classify",
    "evaluate_generated",
}  # classify: train_classifier + evaluate_classifier
LOCAL_RULES = {
    "aggregate_metrics",
    "plot_accuracy_vs_ratio",
    "plot_per_class_metrics",
    "plot_confusion_matrices",
    "plot_samples",
    "write_summary",
    "check_design",
    "split_subjects",
}


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
    # status polls every 2 s, not 10: on this 2-core machine a dozen jobs run one after another, and a finished job
    # waiting for the next poll is test time, not profile behaviour
    profile.update(
        {
            "slurm-status-command": "squeue",
            "slurm-init-seconds-before-status-checks": 2,
            "seconds-between-status-checks": 2,
            "jobs": 4,
            "latency-wait": 5,
        }
    )
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile))
    return dest


def _jobs(env: dict[str, str]) -> list[dict[str, str]]:
    """Every job slurmctld still knows (MinJobAge=600 keeps finished ones), as key=value fields."""
    out = subprocess.run(
        ["scontrol", "show", "job", "--oneliner"], capture_output=True, text=True, env=env, check=True
    ).stdout
    return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in out.splitlines() if line.strip()]


def _wait_for(condition, what: str, run: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert run.poll() is None, run.stdout.read()[-5000:]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _time_limit_minutes(value: str) -> int:
    """SLURM's TimeLimit field ([days-]hours:minutes:seconds) in minutes."""
    days, _, clock = value.rpartition("-")
    h, m, s = (int(x) for x in clock.split(":"))
    return int(days or 0) * 1440 + h * 60 + m + (s > 0)


def test_the_tiny_study_runs_through_the_slurm_profile_and_a_gan_cut_by_its_time_limit_resumes(slurm, tmp_path):
    """The GAN job gets the profile's warning signal (checkpoints, goes on, nothing in the job dies of it), then
    hits its time limit; the retry asks the same limit (max_runtime), resumes from the checkpoint and finishes."""
    config = yaml.safe_load(TINY.read_text())
    # a smaller study than the workstation test: every job costs a SLURM round trip on this 2-core machine
    for name in ("real_b", "cross_b"):
        del config["datasets"][name]
    config["roles"].update(real_train=["real_a"], cross_test=["cross_a"])
    config["experiment"].update(ratios=[0, 1], seeds=[0], synthetic_only=False)
    config["translators"] = ["stargan"]
    config.pop("minority")
    config["stargan"].update(iterations=300, checkpoint_every=20, log_every=20, sample_every=150)
    config["generate"]["identities"] = (
        "real_neutral"  # one GAN job is enough here; the workstation test runs the identity GAN
    )
    config["max_runtime"] = {"gan": 15}  # more than the profile's 10-minute warning
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config_path),
        "--workflow-profile",
        str(_test_profile(tmp_path / "profile")),
    ]
    run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=slurm)

    checkpoint = workdir / "results/gan/stargan/gan_run0/progress/checkpoint.pt"
    log = workdir / "results/logs/train_stargan/gan_run0.log"
    _wait_for(checkpoint.exists, "StarGAN's first checkpoint", run)
    stargan = [
        j
        for j in _jobs(slurm)
        if j.get("Comment", "").startswith("rule_train_stargan") and j.get("JobState") == "RUNNING"
    ]
    assert len(stargan) == 1
    job_id = stargan[0]["JobId"]
    assert _time_limit_minutes(stargan[0]["TimeLimit"]) == 15  # max_runtime.gan
    # the warning the profile asks for (--signal=USR1@600): SLURM sends it to every process of the job step
    subprocess.run(["scancel", "--signal=USR1", job_id], env=slurm, check=True)
    _wait_for(
        lambda: "SIGUSR1: checkpoint written, training goes on" in log.read_text(), "the checkpoint on SIGUSR1", run
    )
    assert next(j for j in _jobs(slurm) if j["JobId"] == job_id)["JobState"] == "RUNNING"  # nothing died of it
    # then the time limit: the job's limit is cut to one minute, and its training process held still until SLURM
    # ends the job there, as at any limit (so that it cannot finish first, however fast this machine is)
    trainer = [
        int(p)
        for p in subprocess.run(
            ["pgrep", "-f", f"{workdir}/.snakemake/scripts/.*train_stargan.py"], capture_output=True, text=True
        ).stdout.split()
    ]
    assert trainer, "the training process was not found"
    subprocess.run(["scontrol", "update", f"JobId={job_id}", "TimeLimit=1"], env=slurm, check=True)
    while next(j for j in _jobs(slurm) if j["JobId"] == job_id)["JobState"] == "RUNNING":
        for pid in trainer:  # again and again: SLURM continues stopped processes whenever it signals the job
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        time.sleep(0.2)

    output, _ = run.communicate(timeout=1500)
    assert run.returncode == 0, output[-5000:]
    for name in (
        "metrics.csv",
        "metrics_summary.csv",
        "accuracy_vs_ratio.png",
        "samples_stargan.png",
        "generated_fidelity.csv",
        "summary.md",
    ):
        assert (workdir / "results/report" / name).stat().st_size > 0, name
    assert "resuming from" in log.read_text()

    jobs = [j for j in _jobs(slurm) if j.get("Comment", "").startswith("rule_")]
    by_rule: dict[str, list[dict[str, str]]] = {}
    for job in jobs:
        name = job["Comment"].removeprefix("rule_").split("_wildcards_")[0]
        by_rule.setdefault("classify" if name.startswith("classify_") else name, []).append(
            job
        )  # a group job: its group
    assert GPU_RULES <= set(by_rule), sorted(by_rule)
    for rule, submitted in by_rule.items():
        for job in submitted:
            asks_gpu = "gres:gpu:1" in job.get("TresPerJob", "") or "gres/gpu=1" in job.get("TRES", "")
            assert asks_gpu == (rule in GPU_RULES), (rule, job.get("TresPerJob"), job.get("TRES"))
    assert not LOCAL_RULES & set(by_rule), sorted(by_rule)  # seconds of work: never an sbatch job
    # each classifier's evaluation ran in its training job: one sbatch job per (arm, k, seed), not two
    assert len(by_rule["classify"]) == 2 and "train_classifier" not in by_rule and "evaluate_classifier" not in by_rule
    stargan_jobs = sorted(by_rule["train_stargan"], key=lambda j: int(j["JobId"]))
    timeline = "\n".join(
        f"{j['JobId']} {j['Comment'][:60]} {j['JobState']} {j.get('StartTime')} {j.get('EndTime')}"
        for j in sorted(jobs, key=lambda j: int(j["JobId"]))
    )
    assert [j["JobState"] for j in stargan_jobs] == ["TIMEOUT", "COMPLETED"], (
        timeline
    )  # cut by its limit, resubmitted by the retries
    assert _time_limit_minutes(stargan_jobs[1]["TimeLimit"]) == 15  # the same limit again, not 2 x
