"""How the demo's GANs scale with CPU threads, and what OpenMP's waiting policy does to them.

usage: python scripts/gan_threads.py [--iterations 60] [--rounds 3] [--loads quiet busy]

Each setting runs in a fresh process (OMP_WAIT_POLICY is read when torch loads its OpenMP runtime), the settings
interleaved round by round; prints a markdown table of iterations/s (median over rounds). `busy` runs them beside
one spinning process per logical CPU (synthfer.peers.Load), as other jobs on a shared machine would. The networks, batch
sizes and image size are config/config.yaml's; the faces are random (speed does not depend on them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SETTINGS: list[tuple[int, dict[str, str]]] = [
    (1, {}),
    (2, {}),
    (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    (2, {"GOMP_SPINCOUNT": "30000"}),  # what a GAN job of several threads sets (synthfer.seam)
]


def measure(model: str, iterations: int) -> float:
    """Iterations/s of one GAN at the demo's settings, in this process, after 5 warm-up iterations."""
    import numpy as np
    import torch

    from synthfer.settings import CycleGANConfig, StarGANConfig
    from synthfer.train.cyclegan import _batch, cyclegan_state, cyclegan_step
    from synthfer.train.stargan import draw_batch, stargan_state, stargan_step

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    size = config["preprocess"]["image_size"]
    device = torch.device("cpu")
    faces = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (600, 1, size, size), dtype=np.uint8))
    if model == "cyclegan":
        cfg = CycleGANConfig(image_size=size, **config["cyclegan"])
        state = cyclegan_state(cfg, device)

        def step() -> None:
            batch = _batch(faces[:300], cfg.batch_size, state.random), _batch(faces[300:], cfg.batch_size, state.random)
            cyclegan_step(state, batch, cfg)
    else:
        cfg = StarGANConfig(image_size=size, **config["stargan"])
        state = stargan_state(cfg, device)
        domains = torch.randint(0, cfg.c_dim, (len(faces),), generator=torch.Generator().manual_seed(0))

        def step() -> None:
            stargan_step(state, draw_batch(faces, domains, cfg.batch_size, state.random), cfg)

    for i in range(iterations + 5):
        if i == 5:
            start = time.perf_counter()
        state.iteration += 1
        step()
    return iterations / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loads", nargs="+", choices=("quiet", "busy"), default=["quiet"])
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "THREADS", "ITERATIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import torch

        model, threads, iterations = args.child
        torch.set_num_threads(int(threads))
        print(measure(model, int(iterations)))
        return
    from synthfer.peers import Load

    results: dict[tuple[str, str, int, str], list[float]] = {}
    for _ in range(args.rounds):
        for load in args.loads:
            with Load(list(range(os.cpu_count() or 1)), load == "busy"):
                for model in ("stargan", "cyclegan"):
                    for threads, setting in SETTINGS:
                        env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
                        env |= setting
                        waiting = ", ".join(f"{k}={v}" for k, v in setting.items()) or "libgomp's default"
                        cmd = [sys.executable, __file__, "--child", model, str(threads), str(args.iterations)]
                        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
                        rate = float(out.strip().splitlines()[-1])
                        results.setdefault((load, model, threads, waiting), []).append(rate)
    print(f"{os.cpu_count()} logical CPUs; median of {args.rounds} rounds, {args.iterations} iterations each\n")
    print("| machine | GAN (config/config.yaml) | threads | waiting threads | iterations/s | vs 1 thread |")
    print("|---|---|---|---|---|---|")
    for (load, model, threads, waiting), values in results.items():
        base = statistics.median(results[(load, model, 1, "libgomp's default")])
        rate = statistics.median(values)
        print(f"| {load} | {model} | {threads} | {waiting} | {rate:.2f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
