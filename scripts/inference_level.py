"""How often the report's paired test rejects a true null, by simulation: the table in docs/statistics.md.

usage: python scripts/inference_level.py [--reps 6000] [--subjects 16] [--faces 12]

Per regime of variance components (logit scale: between training runs, test subjects, their interaction) and
seed count: the share of true nulls rejected at a nominal 5% (binomial se ~0.3 points at 6000 replicates),
and, for the demo's regime, what the earlier two-level bootstrap (seeds, then faces) rejected.
"""

from __future__ import annotations

import argparse

import numpy as np

from synthfer.inference import crossed_test, simulate_gains

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
            diffs = simulate_gains(rng, args.reps, seeds, args.subjects, args.faces, 0.0, sd_seed, sd_subject, sd_inter)
            cells = diffs.reshape(args.reps, seeds, args.subjects, args.faces).mean(-1)
            rates.append(float(np.mean(crossed_test(cells)["p_value"] < 0.05)))
        print(f"| {name} | " + " | ".join(f"{100 * r:.1f}%" for r in rates) + " |")
    sd = REGIMES["demo scale (runs differ by ~7 points)"]
    old = [
        bootstrap_rejects(simulate_gains(rng, 1000, s, args.subjects, args.faces, 0.0, *sd), rng) for s in seed_counts
    ]
    print(
        "| demo scale, the earlier bootstrap over seeds and faces (1000 studies) | "
        + " | ".join(f"{100 * r:.1f}%" for r in old)
        + " |"
    )


if __name__ == "__main__":
    main()
