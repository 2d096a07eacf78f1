"""make bench: measure our training paths against the naive way and the device's peak.

usage: python scripts/bench.py [--quick] [--device auto|cpu|cuda] [--out results/bench]
"""

import argparse
import json
import logging
from pathlib import Path

from synthfer.bench import BenchSettings, markdown_table, run_bench
from synthfer.io import atomic_write_json, atomic_write_text
from synthfer.logs import setup_logging
from synthfer.runtime import pick_device
from synthfer.seam import reuse_freed_memory

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="CI size: small images and sets, under a minute on a CPU")
parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
parser.add_argument("--out", default="results/bench", type=Path)
args = parser.parse_args()
setup_logging()
reuse_freed_memory()  # as every workflow job does (the naive reference, in this process too, gains from it as well)
settings = BenchSettings.quick() if args.quick else BenchSettings()
result = run_bench(settings, pick_device(args.device))
atomic_write_json(result, args.out / "bench.json")
table = markdown_table(result)
atomic_write_text(table, args.out / "bench.md")
logging.getLogger("synthfer").info("wrote %s and %s\n%s", args.out / "bench.json", args.out / "bench.md", table)
json.loads((args.out / "bench.json").read_text())
