"""make bench-peers: our classifier and StarGAN training against the authors' Keras path and the original
StarGAN loop, interleaved rounds, pinned CPUs and threads (synthfer.peers).

usage: python scripts/bench_peers.py --peer-python .venv-peers/bin/python [--quick] [--out results/bench]
       python scripts/bench_peers.py --readme docs/performance.md [--out results/bench]   (the last run's table into that page)
"""

import argparse
import json
import logging
import platform
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from synthfer.io import atomic_write_json, atomic_write_text
from synthfer.logs import setup_logging
from synthfer.peers import PeerSettings, markdown_table, run_peers
from synthfer.provenance import cpu

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--peer-python", help="the Python of the environment with TensorFlow")
parser.add_argument(
    "--readme",
    type=Path,
    help="write the last run's table (OUT/peers.json) into this page (docs/performance.md) and stop",
)
parser.add_argument("--quick", action="store_true", help="a tiny run that checks both sides work (about a minute)")
parser.add_argument("--out", default="results/bench", type=Path)
parser.add_argument("--threads", type=int, nargs="+", help="thread counts to measure (default 1 2)")
parser.add_argument("--batches", type=int, nargs="+", help="batch sizes (default 16 256)")
parser.add_argument("--loads", nargs="+", choices=["quiet", "busy"], help="machine states (default quiet busy)")
parser.add_argument("--rounds", type=int, help="interleaved rounds per setting (default 3)")
args = parser.parse_args()
setup_logging()
START, END = "<!-- peers-results:start -->", "<!-- peers-results:end -->"
if args.readme:
    result = json.loads((args.out / "peers.json").read_text())
    machine = result["machine"]["cpu"]
    units = [f for f, present in machine["bf16_flags"].items() if present and f.startswith(("amx", "avx512_bf16"))]
    s = result["settings"]
    chosen = (
        " ".join(f"--{k} {' '.join(map(str, s[k]))}" for k in ("threads", "batches", "loads"))
        + f" --rounds {s['rounds']}"
    )
    block = (
        f'Measured by `make bench-peers ARGS="{chosen}"` on {machine["model"]} ({machine["logical_cpus"]} logical '
        f"CPUs, bf16 units: {', '.join(units) or 'none'}: ours trains in {result['rows'][0]['precision'] or 'fp32'} here), "
        f"{s['image_size']} px, {s['n_images']} faces, median of {s['rounds']} interleaved rounds; written here by "
        "`python scripts/bench_peers.py --readme docs/performance.md`.\n\n" + markdown_table(result)
    )
    text = args.readme.read_text()
    args.readme.write_text(
        re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{block}{END}", text, flags=re.S)
    )
    raise SystemExit(0)
if not args.peer_python:
    parser.error("--peer-python is required to measure")
settings = PeerSettings.quick() if args.quick else PeerSettings()
chosen = {"threads": args.threads, "batches": args.batches, "loads": args.loads, "rounds": args.rounds}
settings = replace(settings, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in chosen.items() if v})
with tempfile.TemporaryDirectory() as work:
    result = run_peers(settings, args.peer_python, Path(work))
result["machine"] = {"cpu": cpu(), "platform": platform.platform()}
atomic_write_json(result, args.out / "peers.json")
table = markdown_table(result)
atomic_write_text(table, args.out / "peers.md")
logging.getLogger("synthfer").info("wrote %s and %s\n%s", args.out / "peers.json", args.out / "peers.md", table)
json.loads((args.out / "peers.json").read_text())
