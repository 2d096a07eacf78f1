"""The GPU proof's two study-level steps: the demo workflow through Snakemake on the device, and the paper
study's device-minutes on one GPU (scripts/gpu_proof.py, steps `workflow` and `paper`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthfer.bench import BenchSettings, stacked_throughput
from synthfer.config import arms, identity_gan_config, stargan_config, translators
from synthfer.gan_speed import gan_speed
from synthfer.gpus import jobs_per_gpu, slots_in_all
from synthfer.utilization import UtilizationSampler, job_spans, start_seconds


def run_workflow(root: Path, config: Path, timeout_s: int, log_path: Path) -> dict[str, Any]:
    """The workflow from an empty results/ under `root`, as `make run` starts it, stopped after `timeout_s`
    (its whole process group: Snakemake and the jobs it started); wall time, GPU utilization, each rule's jobs."""
    for stale in ("results", ".snakemake"):
        shutil.rmtree(root / stale, ignore_errors=True)
    cores, slots = os.cpu_count() or 1, slots_in_all()
    command = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--resources", f"gpu={slots}"]
    command += ["--configfile", str(config)]
    sampler = UtilizationSampler().start()
    start = time.time()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            returncode, timed_out = process.wait(timeout=timeout_s), False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            returncode, timed_out = process.returncode, True
    wall = time.time() - start
    sampler.stop()
    spans = job_spans(root / "results" / "benchmarks")
    rules: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "longest": 0.0})
    for span in spans:
        rule = rules[span["rule"]]
        rule["jobs"] += 1
        rule["seconds"] += span["seconds"]
        rule["longest"] = max(rule["longest"], span["seconds"])
    for rule, seconds in start_seconds(root / "results" / "logs").items():
        if rule in rules:
            rules[rule]["start_s"] = sum(seconds)
    classifier = [s for s in spans if s["rule"].startswith("train_classifier")]
    phase = (min(s["start"] for s in classifier), max(s["end"] for s in classifier)) if classifier else (None, None)
    return {
        "command": " ".join(command[2:]),
        "cores": cores,
        "gpu_slots": slots,
        "jobs_per_gpu": jobs_per_gpu(),
        "returncode": returncode,
        "timed_out": timed_out,
        "wall_s": wall,
        "jobs_done": len(spans),
        "rules": dict(sorted(rules.items(), key=lambda item: -item[1]["seconds"])),
        "spans": [{**s, "start": s["start"] - start, "end": s["end"] - start} for s in spans],
        "utilization": {
            "run": sampler.mean(),
            "classifier_phase": sampler.mean(*phase) if classifier else None,
            "samples": len(sampler.samples),
            "error": sampler.error,
        },
    }


def classifier_grid_image_epochs(config: dict[str, Any], settings: BenchSettings) -> float:
    """Images x epochs of study 1's classifier grid at most (every run to its maximum epochs): real only, each
    translator's synthetic only, and every arm at every k >= 1, each over the config's seeds."""
    ks = [k for k in config["experiment"]["ratios"] if k > 0]
    real, unit = settings.grid_real_images, settings.grid_unit_images
    sizes = [real] + [unit] * len(translators(config)) + [real + k * unit for k in ks] * len(arms(config))
    epochs = config["classifier"].get("max_epochs", settings.grid_epochs)
    return len(config["experiment"]["seeds"]) * epochs * sum(sizes)


def paper_estimate(
    config: dict[str, Any], gan_rows: list[dict[str, Any]], device: torch.device, quick: bool
) -> dict[str, Any]:
    """Study 1 of `config` on one GPU: the GANs' device-minutes at their captured rates (from the `gans` step's rows,
    else measured here), the classifier grid's at the rate of its seeds stacked and captured at 64 px, their sum
    and the critical path (StarGAN, then the largest classifier job)."""
    captured = {r["gan"]: r for r in gan_rows if r.get("captured") or device.type != "cuda"}
    for kind, cfg in (("stargan", stargan_config(config)), ("identity_gan", identity_gan_config(config))):
        if kind not in captured:
            captured[kind] = gan_speed(kind, cfg, 3 if quick else 100, device, warmup=3 if quick else 20)
    settings = BenchSettings(image_size=64)
    rng = np.random.default_rng(0)
    n = 128 if quick else 2048
    images, labels = rng.integers(0, 256, (n, 64, 64), dtype=np.uint8), rng.integers(0, 6, n)
    seeds = len(config["experiment"]["seeds"])
    rate = stacked_throughput(images, labels, 16, seeds, device)["stacked_images_per_s"]
    grid = classifier_grid_image_epochs(config, settings) / rate / 60
    ks = [k for k in config["experiment"]["ratios"] if k > 0]
    largest_job = (
        seeds
        * config["classifier"].get("max_epochs", 50)
        * (settings.grid_real_images + max(ks) * settings.grid_unit_images)
        / rate
        / 60
    )
    parts = {
        "train_stargan": captured["stargan"]["configured_minutes"],
        "train_identity_gan": captured["identity_gan"]["configured_minutes"],
        f"classifier grid ({len(arms(config))} arms, {seeds} seeds stacked per job, every run to its maximum epochs)": grid,
    }
    return {
        "parts": parts,
        "sum_minutes": sum(parts.values()),
        "critical_path_minutes": parts["train_stargan"] + largest_job,
        "stacked_images_per_s": rate,
        "jobs_per_gpu": jobs_per_gpu(),
    }
