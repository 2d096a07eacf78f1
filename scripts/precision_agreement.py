"""Do two x86 CPUs train the same networks? The default precision against `precision: fp32`, on this CPU as it
is and with its vector units capped at AVX2 (what a CPU without AVX-512 and bf16 units runs), and what fp32 costs.

usage: python scripts/precision_agreement.py --faces results/faces/affectnet_demo [--iterations 100] [--doc docs/performance.md]

Each of the demo's GANs (its config's sizes) and the classifier trains `--iterations` steps from the same seed on
the same faces (the first 512 of a prepared face store, e.g. the demo's GAN-training set after `make run`), in a
fresh process per (precision, vector units; capped at AVX2 the default is fp32, as on any CPU without bf16 units):
PyTorch's own kernels capped with
ATEN_CPU_CAPABILITY=avx2, oneDNN's with ONEDNN_MAX_CPU_ISA=AVX2, MKL's with MKL_ENABLE_INSTRUCTIONS=AVX2. The
table gives, per network, whether the two runs' weights are bit-identical (else their largest difference) and
the fp32 run's time over the default's on this CPU as it is. With --doc the table replaces the page's
precision_agreement section.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- precision_agreement: begin -->", "<!-- precision_agreement: end -->"
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
NETWORKS = ("stargan", "identity_gan", "cyclegan", "classifier")


def _prefixed(name: str, module: object) -> dict:
    return {f"{name}.{k}": v for k, v in module.state_dict().items()}


def train(network: str, precision: str, iterations: int, store: Path) -> tuple[dict, float]:
    """`iterations` training steps of one network on the first 512 faces of `store`: its weights and the seconds
    taken."""
    import numpy as np
    import torch
    import yaml

    from synthfer import config as sfconfig
    from synthfer.runtime import seed_everything
    from synthfer.train import cyclegan, identity_gan, stargan
    from synthfer.train.classifier import train_classifier

    study = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    study["precision"] = "fp32" if precision == "fp32" else "auto"
    device = torch.device("cpu")
    from synthfer.data.store import read_store

    rng = np.random.default_rng(0)
    faces = torch.from_numpy(np.ascontiguousarray(read_store(store).images[:512])).unsqueeze(1)
    seed_everything(0)
    start = time.perf_counter()
    if network == "stargan":
        cfg = sfconfig.stargan_config(study)
        domains = torch.from_numpy(rng.integers(0, 7, len(faces)))
        state = stargan.stargan_state(cfg, device)
        for _ in range(iterations):
            state.iteration += 1
            stargan.stargan_step(state, stargan.draw_batch(faces, domains, cfg.batch_size, state.random), cfg)
        weights = {**_prefixed("G", state.G), **_prefixed("D", state.D)}
    elif network == "identity_gan":
        cfg = sfconfig.identity_gan_config(study)
        state = identity_gan.identity_gan_state(cfg, device)
        for _ in range(iterations):
            state.iteration += 1
            identity_gan.identity_step(state, identity_gan.draw_batch(faces, cfg.batch_size, state.random), cfg)
        weights = {**_prefixed("G", state.G), **_prefixed("D", state.D)}
    elif network == "cyclegan":
        cfg = sfconfig.cyclegan_config(study, "cyclegan", "disgust")
        state = cyclegan.cyclegan_state(cfg, device)
        for _ in range(iterations):
            state.iteration += 1
            batch = (
                cyclegan._batch(faces[:256], cfg.batch_size, state.random),
                cyclegan._batch(faces[256:], cfg.batch_size, state.random),
            )
            cyclegan.cyclegan_step(state, batch, cfg)
        weights = {
            name: w
            for part in ("G_ab", "G_ba", "D_a", "D_b")
            for name, w in _prefixed(part, getattr(state, part)).items()
        }
    else:
        cfg = replace(sfconfig.classifier_config(study, "1"), max_epochs=max(1, iterations // 32), patience=10**6)
        labels = rng.integers(0, 6, len(faces))
        model, _ = train_classifier(faces[:, 0].numpy(), labels, faces[:64, 0].numpy(), labels[:64], cfg, 0, device)
        weights = model.state_dict()
    return {k: v.detach().float().clone() for k, v in weights.items()}, time.perf_counter() - start


def child(network: str, precision: str, iterations: int, store: Path, out: Path) -> None:
    import torch

    weights, seconds = train(network, precision, iterations, store)
    torch.save(weights, out)
    digest = hashlib.sha256(b"".join(w.numpy().tobytes() for w in weights.values())).hexdigest()[:12]
    print(json.dumps({"seconds": seconds, "sha": digest}))


def run(network: str, precision: str, capped: bool, args: argparse.Namespace, out: Path) -> dict:
    env = {**os.environ, **(AVX2 if capped else {}), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    # a CPU without bf16 units resolves the default precision to fp32 (synthfer.runtime.resolve_precision); capped
    # here, this CPU would still report its bf16 units and run bf16 in AVX2 kernels, which no real CPU does
    runs_in = "fp32" if capped else precision
    cmd = [sys.executable, __file__, "--child", network, runs_in, "--iterations", str(args.iterations)]
    cmd += ["--faces", str(args.faces), "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def largest_difference(a: Path, b: Path) -> float:
    import torch

    x, y = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    return max(float((x[k] - y[k]).abs().max()) for k in x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, required=True, help="a prepared face store (faces.npz, faces.csv)")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--doc", type=Path, help="write the table into this page between its markers")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.iterations, args.faces, args.out)
        return
    import tempfile

    import torch

    work = Path(tempfile.mkdtemp(prefix="precision_agreement_"))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    bf16 = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    lines = [
        f"Same seed, same faces, {args.iterations} training steps per network at the demo config's sizes, one thread; "
        f"this CPU ({cpu}, bf16 units: {'yes' if bf16 else 'no'}) as it is and capped at AVX2 "
        f"(`python scripts/precision_agreement.py --faces <the demo's GAN-training faces> --iterations {args.iterations}`):",
        "",
        "| network | default precision: native vs AVX2 | `precision: fp32`: native vs AVX2 | fp32 time / default time |",
        "|---|---|---|---|",
    ]
    for network in NETWORKS:
        cells, seconds = [], {}
        for precision in ("auto", "fp32"):
            results = {}
            for capped in (False, True):
                path = work / f"{network}_{precision}_{'avx2' if capped else 'native'}.pt"
                results[capped] = run(network, precision, capped, args, path)
            seconds[precision] = results[False]["seconds"]
            if results[False]["sha"] == results[True]["sha"]:
                cells.append("bit-identical")
            else:
                diff = largest_difference(
                    work / f"{network}_{precision}_native.pt", work / f"{network}_{precision}_avx2.pt"
                )
                cells.append(f"differ (largest weight difference {diff:.2g})")
        ratio = seconds["fp32"] / seconds["auto"]
        lines.append(f"| {network} | {cells[0]} | {cells[1]} | {ratio:.2f} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.doc:
        page = args.doc.read_text()
        if BEGIN not in page or END not in page:
            raise SystemExit(f"precision_agreement: {args.doc} has no {BEGIN} ... {END} section to write into")
        head, rest = page.split(BEGIN, 1)
        args.doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{rest.split(END, 1)[1]}")


if __name__ == "__main__":
    main()
