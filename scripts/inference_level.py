"""How often the report's paired test rejects a true null, by simulation: the table in docs/statistics.md.

usage: python scripts/inference_level.py [--reps 6000] [--subjects 16] [--faces 12]

Per regime of variance components (logit scale: between training runs, test subjects, their interaction) and
seed count: the share of true nulls rejected at a nominal 5% (binomial se ~0.3 points at 6000 replicates),
and, for the demo's regime, what the earlier two-level bootstrap (seeds, then faces) rejected. Then, with the
GAN run as a random unit (10 seeds dealt out over R runs, GAN runs differing by an sd in accuracy points): the
false-positive rate of the test the report uses, of the one-run (conditional) test read as a claim about the
method, and the power at a gain of 5 points.
"""

from __future__ import annotations

import argparse

import numpy as np

from synthfer.inference import (
    Design,
    Spread,
    crossed_test,
    gan_run_test,
    logit_per_point,
    simulate_gains,
    spread_over_runs,
)

REGIMES = {  # name: (sd_seed, sd_subject, sd_seed_subject)
    "demo scale (runs differ by ~7 points)": (0.5, 0.3, 0.3),
    "runs differ by ~5 points": (0.3, 0.2, 0.2),
    "runs differ little, subjects much": (0.1, 0.3, 0.2),
    "no subject effect": (0.3, 0.0, 0.2),
    "large training noise": (0.6, 0.1, 0.1),
}


def bootstrap_rejects(diffs: np.ndarray, rng: np.random.Generator, n_boot: int = 500) -> float:
    rejected = 0
    for d in diffs:
        seeds, faces = d.shape
        seed_idx = rng.integers(0, seeds, (n_boot, seeds))
        face_idx = rng.integers(0, faces, (n_boot, faces))
        boot = d[seed_idx[:, :, None], face_idx[:, None, :]].mean(axis=(1, 2))
        rejected += min(1.0, 2 * min((boot <= 0).mean(), (boot >= 0).mean())) < 0.05
    return rejected / len(diffs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=6000)
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--faces", type=int, default=12)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    seed_counts = (3, 5, 10)
    print(
        f"False-positive rate at nominal 5% ({args.reps} simulated null studies per cell, {args.subjects} test subjects x {args.faces} faces)\n"
    )
    print("| variance regime | " + " | ".join(f"{s} seeds" for s in seed_counts) + " |")
    print("|---|" + "---|" * len(seed_counts))
    for name, (sd_seed, sd_subject, sd_inter) in REGIMES.items():
        rates = []
        for seeds in seed_counts:
            design = Design(args.reps, seeds, args.subjects, args.faces)
            diffs = simulate_gains(rng, design, 0.0, Spread(sd_seed, sd_subject, sd_inter))
            cells = diffs.reshape(args.reps, seeds, args.subjects, args.faces).mean(-1)
            rates.append(float(np.mean(crossed_test(cells)["p_value"] < 0.05)))
        print(f"| {name} | " + " | ".join(f"{100 * r:.1f}%" for r in rates) + " |")
    sd = REGIMES["demo scale (runs differ by ~7 points)"]
    old = [
        bootstrap_rejects(simulate_gains(rng, Design(1000, s, args.subjects, args.faces), 0.0, Spread(*sd)), rng)
        for s in seed_counts
    ]
    print(
        "| demo scale, the earlier bootstrap over seeds and faces (1000 studies) | "
        + " | ".join(f"{100 * r:.1f}%" for r in old)
        + " |"
    )

    gan_run_table(rng, args)


RUN_SDS = (0.0, 1.0, 2.0, 3.2, 5.0, 8.0)  # accuracy points between GAN runs
GAN_RUNS = (1, 2, 3, 5)


def _rates(rng: np.random.Generator, design: Design, effect: float, sd_logit: float) -> float:
    diffs = simulate_gains(rng, design, effect, Spread(gan_run=sd_logit))
    cells = diffs.reshape(design.reps, design.seeds, design.subjects, design.faces).mean(-1)
    return float(np.mean(gan_run_test(cells, spread_over_runs(design.seeds, design.gan_runs))["p_value"] < 0.05))


def gan_run_table(rng: np.random.Generator, args: argparse.Namespace) -> None:
    per_point = logit_per_point(rng)
    print(
        f"\nWith the GAN run as a random unit: 10 seeds dealt out over R GAN runs ({args.reps} simulated studies per "
        f"cell, demo-scale seed and subject components). False-positive rate at nominal 5% by the GAN runs' sd; "
        f"R = 1 is the one-run test read as a claim about the method. Last column: power at a true gain of 5 "
        f"points with runs 2 points apart.\n"
    )
    print("| GAN runs | " + " | ".join(f"sd {sd:g}" for sd in RUN_SDS) + " | power, 5 points |")
    print("|---|" + "---|" * (len(RUN_SDS) + 1))
    for runs in GAN_RUNS:
        design = Design(args.reps, 10, args.subjects, args.faces, runs)
        rates = [_rates(rng, design, 0.0, sd * per_point) for sd in RUN_SDS]
        power = _rates(rng, design, 5 * per_point, 2 * per_point)
        print(f"| {runs} | " + " | ".join(f"{100 * r:.1f}%" for r in rates) + f" | {100 * power:.0f}% |")


if __name__ == "__main__":
    main()
