"""How the demo's training jobs scale with CPU threads, and what OpenMP's way of waiting does to them.

usage: python scripts/job_threads.py [--seconds 5] [--rounds 3] [--loads quiet busy]
                                     [--models classifier stargan cyclegan identity_gan]

Each (model, threads, waiting) setting runs in a fresh process, because libgomp reads OMP_WAIT_POLICY and
GOMP_SPINCOUNT once, when torch loads it; the settings are interleaved round by round and the table gives the
median over rounds of training steps per second (a step: one classifier batch, one GAN iteration), each measured
for `--seconds` after 5 warm-up steps. `busy` runs them beside one spinning process per logical CPU
(synthfer.peers.Load), as other jobs on a shared machine would. Networks, batch sizes, image size and precision
are config/config.yaml's; the faces are random (speed does not depend on them). The waiting settings are
libgomp's default (a waiting thread spins 300,000 times, then sleeps), OMP_WAIT_POLICY=PASSIVE (it sleeps at
once) and GOMP_SPINCOUNT=30000, what synthfer.seam sets for a job of several threads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from synthfer.seam import SPINS_WHEN_THREADED, reuse_freed_memory

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("classifier", "stargan", "cyclegan", "identity_gan")
SETTINGS: list[tuple[int, dict[str, str]]] = [
    (1, {}),
    (2, {}),
    (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    (2, SPINS_WHEN_THREADED),  # what a workflow job of several threads sets
]
DEFAULT_WAIT = "libgomp's default"


def training_step(model: str) -> Callable[[], None]:
    """One training step of `model` at the demo's settings, on random faces in memory, as the workflow runs it."""
    import numpy as np
    import torch

    from synthfer.settings import ClassifierConfig, CycleGANConfig, IdentityGANConfig, StarGANConfig

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    size = config["preprocess"]["image_size"]
    device = torch.device("cpu")
    faces = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (600, 1, size, size), dtype=np.uint8))
    labels = torch.randint(0, 6, (len(faces),), generator=torch.Generator().manual_seed(0))
    if model == "classifier":
        from synthfer.models.classifier import PaperCNN
        from synthfer.train.classifier import ClassifierStep, adam, train_one_epoch

        cfg = ClassifierConfig(**{k: v for k, v in config["classifier"].items() if k != "per_ratio"})
        net = PaperCNN(size).to(memory_format=torch.channels_last)
        step, gen = ClassifierStep(net, adam(net.parameters(), cfg.lr), cfg.precision), torch.Generator().manual_seed(0)
        batch = cfg.batch_size
        return lambda: train_one_epoch(step, faces[:batch], labels[:batch], batch, gen)
    if model == "cyclegan":
        from synthfer.train.cyclegan import _batch, cyclegan_state, cyclegan_step

        cycle = CycleGANConfig(image_size=size, **config["cyclegan"])
        state = cyclegan_state(cycle, device)
        domain_a, domain_b = faces[:300], faces[300:]

        def cycle_step() -> None:
            batch = _batch(domain_a, cycle.batch_size, state.random), _batch(domain_b, cycle.batch_size, state.random)
            _step(state, cyclegan_step, batch, cycle)

        return cycle_step
    if model == "identity_gan":
        from synthfer.train.identity_gan import draw_batch, identity_gan_state, identity_step

        ident = IdentityGANConfig(image_size=size, **config["identity_gan"])
        state = identity_gan_state(ident, device)
        return lambda: _step(state, identity_step, draw_batch(faces, ident.batch_size, state.random), ident)
    from synthfer.train.stargan import draw_batch, stargan_state, stargan_step

    star = StarGANConfig(image_size=size, **config["stargan"])
    state = stargan_state(star, device)
    return lambda: _step(state, stargan_step, draw_batch(faces, labels, star.batch_size, state.random), star)


def _step(state, step, batch, cfg) -> None:  # noqa: ANN001 - the three GAN loops' (state, batch, cfg) signature
    state.iteration += 1
    step(state, batch, cfg)


def measure(model: str, seconds: float) -> float:
    """Training steps per second of `model` in this process, over at least `seconds` after 5 warm-up steps."""
    step = training_step(model)
    for _ in range(5):
        step()
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        step()
        steps += 1
    return steps / elapsed


def tables(rows: list[tuple[str, str, int, str, float, float]]) -> str:
    """Markdown: every setting (machine, job, threads, waiting, steps/s, against 1 thread), then the same ratios
    as one row per machine and job, a column per way of waiting."""
    lines = [
        "| machine | job (config/config.yaml) | threads | waiting threads | steps/s | vs 1 thread |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {load} | {model} | {threads} | {waiting} | {rate:.2f} | {ratio:.2f}x |"
        for load, model, threads, waiting, rate, ratio in rows
    ]
    waits = list(dict.fromkeys(w for _, _, threads, w, _, _ in rows if threads > 1))
    lines += ["", "2 threads against 1 thread of the same job:", ""]
    lines += ["| machine | job | 1 thread, steps/s | " + " | ".join(f"2 threads, {w}" for w in waits) + " |"]
    lines += ["|---|---|---|" + "---|" * len(waits)]
    for load, model in dict.fromkeys((r[0], r[1]) for r in rows):
        by_wait = {w: ratio for ld, m, threads, w, _, ratio in rows if (ld, m) == (load, model) and threads > 1}
        one = next(rate for ld, m, threads, _, rate, _ in rows if (ld, m) == (load, model) and threads == 1)
        lines += [f"| {load} | {model} | {one:.2f} | " + " | ".join(f"{by_wait[w]:.2f}x" for w in waits) + " |"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per setting and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loads", nargs="+", choices=("quiet", "busy"), default=["quiet"])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "THREADS", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import torch

        model, threads, seconds = args.child
        torch.set_num_threads(int(threads))
        reuse_freed_memory()  # as every workflow job does
        print(measure(model, float(seconds)))
        return
    from synthfer.peers import Load, measurement_env

    results: dict[tuple[str, str, int, str], list[float]] = {}
    for done in range(args.rounds):
        for load in args.loads:
            with Load(list(range(os.cpu_count() or 1)), load == "busy"):
                for model in args.models:
                    for threads, setting in SETTINGS:
                        waiting = ", ".join(f"{k}={v}" for k, v in setting.items()) or DEFAULT_WAIT
                        cmd = [sys.executable, __file__, "--child", model, str(threads), str(args.seconds)]
                        out = subprocess.run(
                            cmd, env=measurement_env(threads, setting), capture_output=True, text=True, check=True
                        ).stdout
                        rate = float(out.strip().splitlines()[-1])
                        results.setdefault((load, model, threads, waiting), []).append(rate)
        print(f"round {done + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    rows = []
    for (load, model, threads, waiting), values in results.items():
        rate = statistics.median(values)
        rows.append(
            (load, model, threads, waiting, rate, rate / statistics.median(results[(load, model, 1, DEFAULT_WAIT)]))
        )
    print(f"{os.cpu_count()} logical CPUs; median of {args.rounds} interleaved rounds, {args.seconds:g} s each\n")
    print(tables(rows))


if __name__ == "__main__":
    main()
