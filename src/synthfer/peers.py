"""`make bench-peers`: our training paths against what users would otherwise run, side by side.

Peers: the authors' Keras classifier path (bench/peers/keras_classifier.py, run in its own environment) and the
original StarGAN training loop (yunjey/stargan's `Solver.train`, written here from its published description:
an `ImageFolder` decoded and augmented every iteration, fp32, every loss read back with `.item()` each
iteration), at the same network size on the same images. Each measurement is a fresh process pinned to the
same CPUs with the same thread count; rounds interleave the two sides (the order alternates), and medians are
reported. `busy` adds a spinning process on each pinned CPU, as other jobs on a shared node would.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from synthfer.labels import DOMAINS, EMOTIONS
from synthfer.seam import SPINS_WHEN_THREADED, reuse_freed_memory

log = logging.getLogger("synthfer")
KERAS_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "peers" / "keras_classifier.py"


@dataclass(frozen=True)
class PeerSettings:
    image_size: int = 64
    n_images: int = 480  # 80 per emotion; throughput, not accuracy, is measured
    batches: tuple[int, ...] = (16, 256)
    threads: tuple[int, ...] = (1, 2)
    loads: tuple[str, ...] = ("quiet", "busy")
    epochs: int = 1
    rounds: int = 3
    stargan: tuple[int, int] = (64, 6)  # conv_dim, residual blocks: the paper's network
    stargan_iterations: int = 6
    stargan_batch: int = 16
    cpus: tuple[int, ...] = field(default_factory=lambda: tuple(sorted(os.sched_getaffinity(0))))

    @staticmethod
    def quick() -> PeerSettings:
        return PeerSettings(
            image_size=32, n_images=120, batches=(16,), threads=(1,), loads=("quiet",), epochs=1, rounds=1,
            stargan=(8, 1), stargan_iterations=2, stargan_batch=4,
        )  # fmt: skip


def write_face_folders(n_images: int, image_size: int, out: Path) -> Path:
    """Demo faces (the renderer's, grayscale, `image_size` px) as `<out>/<domain>/<i>.png`, the layout Keras'
    flow_from_directory and torchvision's ImageFolder read; neutral included (StarGAN's 7 domains), the
    classifier's folder `<out>/emotions` holds the 6 emotions only."""
    from synthfer.data.demo import DemoDatabase, write_demo_database

    per_domain = -(-n_images // len(EMOTIONS))
    table = write_demo_database(DemoDatabase(seed=7, subjects=per_domain, image_size=image_size), out / "rendered")
    for row in table.itertuples():
        for root in (out / "all", *([out / "emotions"] if row.emotion in EMOTIONS else [])):
            (root / row.emotion).mkdir(parents=True, exist_ok=True)
            with Image.open(out / "rendered" / row.file) as img:
                img.convert("L").resize((image_size, image_size)).save(root / row.emotion / Path(row.file).name)
    return out


def read_face_folders(root: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Class folders -> uint8 faces (N, S, S) and labels, decoded once (our data path)."""
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).glob("*.png")):
            with Image.open(path) as img:
                images.append(np.asarray(img.convert("L"), dtype=np.uint8))
            labels.append(label)
    return np.stack(images), np.asarray(labels, np.int64)


def ours_classifier(images_dir: Path, batch: int, epochs: int) -> dict[str, float]:
    """Our classifier path (faces decoded once into one uint8 tensor, batches by index, channels_last, bf16 where
    the CPU has bf16 units): images per second over `epochs` epochs after a warm-up epoch."""
    import torch

    from synthfer.models.classifier import PaperCNN
    from synthfer.runtime import resolve_precision, seed_everything
    from synthfer.train.classifier import ClassifierStep, adam, train_one_epoch

    images, labels = read_face_folders(images_dir, list(EMOTIONS))
    device = torch.device("cpu")
    gen = seed_everything(0, device)
    x_all, y_all = torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)
    model = PaperCNN(images.shape[-1]).to(memory_format=torch.channels_last)
    precision = resolve_precision("auto", device)
    step = ClassifierStep(model, adam(model.parameters(), 1e-4), precision)
    train_one_epoch(step, x_all, y_all, batch, gen)  # warm-up, as Keras gets one
    start = time.perf_counter()
    for _ in range(epochs):
        train_one_epoch(step, x_all, y_all, batch, gen)
    seconds = time.perf_counter() - start
    return {"images_per_s": len(images) * epochs / seconds, "seconds": seconds, "precision": precision}


def original_stargan(images_dir: Path, conv_dim: int, repeat: int, batch: int, iterations: int) -> dict[str, float]:
    """yunjey/stargan's training loop at this network size: per iteration a batch from an `ImageFolder`
    (decode, random flip, to tensor, normalise) through a `DataLoader`, the discriminator step (real, domain,
    fake, gradient penalty), every 5th iteration the generator step, every loss read back with `.item()`; fp32,
    default memory format. Iterations per second after one warm-up iteration."""
    import torch
    import torch.nn.functional as F
    from torchvision import datasets, transforms

    from synthfer.train.stargan import StarGANConfig, gradient_penalty

    torch.manual_seed(0)
    tf = transforms.Compose(
        [
            transforms.Grayscale(),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize((0.5,), (0.5,)),
        ]
    )
    data = datasets.ImageFolder(str(images_dir), tf)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=1, drop_last=True)
    size = data[0][0].shape[-1]
    cfg = StarGANConfig(image_size=size, conv_dim=conv_dim, d_conv_dim=conv_dim, g_repeat=repeat, batch_size=batch)
    G, D = cfg.build_generator(), cfg.build_discriminator()
    g_opt = torch.optim.Adam(G.parameters(), cfg.g_lr, betas=(cfg.beta1, cfg.beta2))
    d_opt = torch.optim.Adam(D.parameters(), cfg.d_lr, betas=(cfg.beta1, cfg.beta2))
    batches = iter(loader)
    losses: dict[str, float] = {}

    def step(i: int) -> None:
        nonlocal batches
        try:
            x_real, label_org = next(batches)
        except StopIteration:
            batches = iter(loader)
            x_real, label_org = next(batches)
        label_trg = label_org[torch.randperm(label_org.size(0))]
        c_org, c_trg = F.one_hot(label_org, len(DOMAINS)).float(), F.one_hot(label_trg, len(DOMAINS)).float()
        out_src, out_cls = D(x_real)
        d_loss_real, d_loss_cls = -torch.mean(out_src), F.cross_entropy(out_cls, label_org)
        x_fake = G(x_real, c_trg)
        d_loss_fake = torch.mean(D(x_fake.detach())[0])
        alpha = torch.rand(x_real.size(0), 1, 1, 1)
        x_hat = (alpha * x_real.data + (1 - alpha) * x_fake.data).requires_grad_(True)
        d_loss_gp = gradient_penalty(D(x_hat)[0], x_hat)
        d_loss = d_loss_real + d_loss_fake + cfg.lambda_cls * d_loss_cls + cfg.lambda_gp * d_loss_gp
        g_opt.zero_grad()
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        losses.update(
            {
                "D/real": d_loss_real.item(),
                "D/fake": d_loss_fake.item(),
                "D/cls": d_loss_cls.item(),
                "D/gp": d_loss_gp.item(),
            }
        )
        if (i + 1) % cfg.n_critic == 0:
            x_fake = G(x_real, c_trg)
            out_src, out_cls = D(x_fake)
            g_loss_fake, g_loss_cls = -torch.mean(out_src), F.cross_entropy(out_cls, label_trg)
            g_loss_rec = torch.mean(torch.abs(x_real - G(x_fake, c_org)))
            g_loss = g_loss_fake + cfg.lambda_rec * g_loss_rec + cfg.lambda_cls * g_loss_cls
            g_opt.zero_grad()
            d_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            losses.update({"G/fake": g_loss_fake.item(), "G/rec": g_loss_rec.item(), "G/cls": g_loss_cls.item()})

    step(0)
    start = time.perf_counter()
    for i in range(1, iterations + 1):
        step(i)
    seconds = time.perf_counter() - start
    finite = all(np.isfinite(v) for v in losses.values())
    return {"iterations_per_s": iterations / seconds, "seconds": seconds, "losses_finite": finite}


def ours_stargan(images_dir: Path, conv_dim: int, repeat: int, batch: int, iterations: int) -> dict[str, float]:
    """Our StarGAN loop (synthfer.train.stargan) at the same size on the same faces: the set in memory as one
    uint8 tensor, bf16 where the CPU has bf16 units, losses read back only when logged."""

    import torch

    from synthfer.train.stargan import StarGANConfig, draw_batch, stargan_state, stargan_step

    images, labels = read_face_folders(images_dir, sorted(p.name for p in images_dir.iterdir() if p.is_dir()))
    device = torch.device("cpu")
    cfg = StarGANConfig(
        image_size=images.shape[-1], conv_dim=conv_dim, d_conv_dim=conv_dim, g_repeat=repeat, batch_size=batch,
        iterations=10**9, log_every=10**9, sample_every=10**9,  # no sample grid, loss plot or lr decay in the timing
    )  # fmt: skip
    state = stargan_state(cfg, device)
    x_all, y_all = torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)

    def step(it: int) -> None:
        state.iteration = it
        stargan_step(state, draw_batch(x_all, y_all, cfg.batch_size, state.random), cfg)

    step(1)  # warm-up
    start = time.perf_counter()
    for i in range(2, iterations + 2):
        step(i)
    seconds = time.perf_counter() - start
    return {"iterations_per_s": iterations / seconds, "seconds": seconds}


SIDES = {"ours_classifier": ours_classifier, "original_stargan": original_stargan, "ours_stargan": ours_stargan}


def measurement_env(threads: int, openmp: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measurement: `threads` OpenMP threads, waiting as `openmp` says (libgomp's default
    when None, whatever the caller's environment says)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    return {**env, "OMP_NUM_THREADS": str(threads), **(openmp or {})}


def run_side(
    python: str, side: str, cpus: list[int], threads: int, openmp: dict[str, str] | None = None, **kwargs: object
) -> dict[str, float]:
    """One measurement in a fresh process pinned to `cpus` with `threads` threads (their OpenMP waiting set by
    `openmp`, e.g. {"GOMP_SPINCOUNT": "30000"}; libgomp's default when None); its JSON result."""
    if side == "keras_classifier":
        cmd = [python, str(KERAS_SCRIPT), "--images", str(kwargs["images_dir"]), "--batch", str(kwargs["batch"]),
               "--threads", str(threads), "--epochs", str(kwargs["epochs"]), "--cpus", ",".join(map(str, cpus)),
               "--image-size", str(kwargs["image_size"])]  # fmt: skip
    else:
        call = {k: (str(v) if isinstance(v, Path) else v) for k, v in kwargs.items() if k != "image_size"}
        cmd = [python, "-m", "synthfer.peers", side, json.dumps(call), str(threads), ",".join(map(str, cpus))]
    done = subprocess.run(cmd, capture_output=True, text=True, env=measurement_env(threads, openmp), timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rate = result.get("images_per_s", result.get("iterations_per_s"))
    log.info("%s%s, %d thread(s) on CPUs %s, %s: %.2f/s", side, f" ({openmp})" if openmp else "", threads, cpus,
             {k: v for k, v in kwargs.items() if k != "images_dir"}, rate)  # fmt: skip
    return result


class Load:
    """One process spinning on each of `cpus`, as other jobs would on a shared node (none when `on` is false)."""

    def __init__(self, cpus: list[int], on: bool) -> None:
        self.cpus, self.on, self.procs = cpus, on, []

    def __enter__(self) -> Load:
        code = "import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass"
        self.procs = [subprocess.Popen([sys.executable, "-c", code, str(c)]) for c in (self.cpus if self.on else [])]
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.kill()
            p.wait()


def run_peers(settings: PeerSettings, peer_python: str, work: Path) -> dict:
    """Every (threads, batch, load) setting: interleaved rounds of Keras and ours; then StarGAN, original loop
    and ours. Medians and ratios."""
    faces = write_face_folders(settings.n_images, settings.image_size, work)
    rows = []
    for threads in settings.threads:
        cpus = list(settings.cpus[:threads])
        for load in settings.loads:
            for batch in settings.batches:
                # with several threads also ours as a workflow job runs it (seam.SPINS_WHEN_THREADED): with
                # libgomp's default, PyTorch's OpenMP threads spin long while they wait, which a busy machine punishes
                sides = ["keras", "ours", *(["ours_workflow"] if threads > 1 else [])]
                runs: dict[str, list[float]] = {side: [] for side in sides}
                keras_cpu_share: list[float] = []  # its CPU time over wall time x threads, per round
                precision = ""
                with Load(cpus, load == "busy"):
                    for r in range(settings.rounds):
                        for side in sides if r % 2 == 0 else sides[::-1]:
                            kwargs = {"images_dir": faces / "emotions", "batch": batch, "epochs": settings.epochs}
                            if side == "keras":
                                out = run_side(
                                    peer_python,
                                    "keras_classifier",
                                    cpus,
                                    threads,
                                    image_size=settings.image_size,
                                    **kwargs,
                                )
                                keras_cpu_share.append(out["cpu_seconds"] / (out["seconds"] * threads))
                            else:
                                openmp = SPINS_WHEN_THREADED if side == "ours_workflow" else None
                                out = run_side(sys.executable, "ours_classifier", cpus, threads, openmp, **kwargs)
                                precision = out["precision"]
                            runs[side].append(out["images_per_s"])
                keras, ours = float(np.median(runs["keras"])), float(np.median(runs["ours"]))
                workflow = float(np.median(runs["ours_workflow"])) if "ours_workflow" in runs else float("nan")
                rows.append({"model": "classifier", "threads": threads, "load": load, "batch": batch, "ours": ours, "peer": keras,
                             "ratio": ours / keras, "ours_workflow": workflow, "ratio_workflow": workflow / keras, "unit": "images/s",
                             "precision": precision, "rounds": settings.rounds, "peer_rounds": runs["keras"],
                             "peer_cpu_share": keras_cpu_share, "ratio_to_peer_best": ours / max(runs["keras"])})  # fmt: skip
    conv_dim, repeat = settings.stargan
    threads = max(settings.threads)
    cpus = list(settings.cpus[:threads])
    runs = {"original": [], "ours": []}
    kwargs = {"images_dir": faces / "all", "conv_dim": conv_dim, "repeat": repeat, "batch": settings.stargan_batch,
              "iterations": settings.stargan_iterations}  # fmt: skip
    for r in range(settings.rounds):
        for side in ("original", "ours") if r % 2 == 0 else ("ours", "original"):
            openmp = SPINS_WHEN_THREADED if side == "ours" and threads > 1 else None  # each as it would be run
            out = run_side(sys.executable, f"{side}_stargan", cpus, threads, openmp, **kwargs)
            runs[side].append(out["iterations_per_s"])
    original, ours = float(np.median(runs["original"])), float(np.median(runs["ours"]))
    rows.append({"model": f"StarGAN conv {conv_dim}, {repeat} blocks", "threads": threads, "load": "quiet", "batch": settings.stargan_batch,
                 "ours": ours, "peer": original, "ratio": ours / original, "unit": "iterations/s", "precision": "", "rounds": settings.rounds})  # fmt: skip
    return {
        "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.__dict__.items()},
        "rows": rows,
    }


def markdown_table(result: dict) -> str:
    lines = [
        "| model | threads | machine | batch | ours | peer | ours / peer | ours as a workflow job (GOMP_SPINCOUNT=30000) / peer "
        "| peer's rounds (its CPU time / wall time x threads) | ours / peer's best round |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        peer = "authors' Keras" if r["model"] == "classifier" else "original StarGAN loop"
        ours = f"{r['ours']:.2f} {r['unit']}" + (f" ({r['precision']})" if r["precision"] else "")
        workflow = r.get("ratio_workflow", float("nan"))
        workflow_cell = "" if workflow != workflow else f"{workflow:.2f}x ({r['ours_workflow']:.2f})"
        rounds = ", ".join(f"{v:.0f} ({c:.2f})" for v, c in zip(r.get("peer_rounds", []), r.get("peer_cpu_share", [])))
        best = f"{r['ratio_to_peer_best']:.2f}x" if "ratio_to_peer_best" in r else ""
        lines.append(
            f"| {r['model']} | {r['threads']} | {r['load']} | {r['batch']} | {ours} | {peer}: {r['peer']:.2f} | "
            f"{r['ratio']:.2f}x | {workflow_cell} | {rounds} | {best} |"
        )
    return "\n".join(lines) + "\n"


def _main() -> None:
    """`python -m synthfer.peers <side> <json kwargs> <threads> <cpus>`: one measurement, pinned, as JSON."""
    side, kwargs, threads, cpus = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    if side.startswith("ours_"):  # as every workflow job does; the original StarGAN loop runs as its code runs
        reuse_freed_memory()
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    kwargs["images_dir"] = Path(kwargs["images_dir"])
    print(json.dumps(SIDES[side](**kwargs)))


if __name__ == "__main__":
    _main()
