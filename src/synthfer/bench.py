"""`make bench`: how fast our training paths are, against the naive way and against the hardware.

The naive reference is written the way the authors' code works: one image file decoded per sample in a
`Dataset`, batched by a `DataLoader`, fp32, a host sync (`loss.item()`) every step. Ours keeps the set as one
uint8 tensor on the device, draws batches by index, scales on the device, runs the convolutions channels_last
(NHWC), uses bf16 autocast where the device has bf16 units (`classifier.precision: auto`: CUDA, CPUs with
avx512_bf16 or AMX; ours is also timed in fp32) and syncs only to log. Both train the same network on the same images.
`classifier.compile` (torch.compile, off by default) is timed apart, compile time included.
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from synthfer.logs import Progress
from synthfer.models.classifier import PaperCNN
from synthfer.models.dropout import with_native_dropout
from synthfer.runtime import cpu_has_native_bf16, resolve_precision, seed_everything
from synthfer.tensors import to_unit
from synthfer.train.classifier import ClassifierStep, adam, compiled_or_eager, train_one_epoch
from synthfer.train.stacked import StackedModels, StackedStep, train_stacked_epoch
from synthfer.train.stargan import StarGANConfig, draw_batch, stargan_state, stargan_step


@dataclass(frozen=True)
class BenchSettings:
    """What one bench run measures; `quick()` is the CI-sized version (under a minute on a CPU)."""

    image_size: int = 64
    n_images: int = 1024
    batch_sizes: tuple[int, ...] = (16, 256)
    stargan_iterations: int = 10
    stargan: tuple[int, int] = (64, 6)  # conv_dim, residual blocks: the paper's generator
    scaling_real: int = 128
    scaling_ks: tuple[int, ...] = (0, 1, 5, 20)
    matmul_size: int = 2048  # on a CPU; a GPU reaches its peak only on larger products:
    gpu_matmul_size: int = 8192
    stacked_seeds: int = 5
    compile: bool = True  # also time our path under torch.compile (inductor), compile time apart
    repeats: int = 3  # epochs timed per classifier measurement; the median is reported (one epoch swings by 20% here)
    memory_sizes: tuple[int, ...] = (32, 64)  # seam.reuse_freed_memory on/off: the demo's and the paper's image size
    memory_rounds: int = 3
    # the paper's grid, for the GPU-minutes estimate: ~2000 real training faces (109 RaFD + Oulu subjects),
    # a unit = 109 identities x 6 emotions, real only + synthetic only + 9 ratios, 5 seeds, at most 50 epochs
    grid_real_images: int = 2000
    grid_unit_images: int = 654
    grid_ks: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 10, 15, 20)
    grid_seeds: int = 5
    grid_epochs: int = 50
    seed: int = 0

    @staticmethod
    def quick() -> BenchSettings:
        return BenchSettings(
            image_size=32,
            n_images=128,
            batch_sizes=(16, 64),
            stargan_iterations=3,
            stargan=(16, 2),
            scaling_real=16,
            matmul_size=512,
            gpu_matmul_size=1024,
            stacked_seeds=2,
            compile=False,
            repeats=1,
            memory_sizes=(32,),
            memory_rounds=1,
        )


class NaiveFaceFiles(Dataset):
    """The authors' data path: every sample is a PNG decoded from disk, every epoch."""

    def __init__(self, paths: list[Path], labels: np.ndarray, signed: bool = False) -> None:
        self.paths, self.labels, self.signed = paths, labels, signed

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[i]) as img:
            x = torch.from_numpy(np.asarray(img.convert("L"), dtype=np.float32) / 255.0)[None]
        return (x * 2 - 1 if self.signed else x), int(self.labels[i])


def naive_classifier_step(
    model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> float:
    """One fp32 step of the naive path, with its per-step host sync."""
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def write_image_files(images: np.ndarray, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i:06d}.png" for i in range(len(images))]
    for path, image in zip(paths, images):
        Image.fromarray(image).save(path)
    return paths


def wait_for_device(device: torch.device) -> None:
    """Wait until the device has run every queued kernel: a timer read before that times the launches only."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(device: torch.device, work: Callable[[], Any]) -> float:
    wait_for_device(device)
    start = time.perf_counter()
    work()
    wait_for_device(device)
    return time.perf_counter() - start


def median_seconds(device: torch.device, work: Callable[[], Any], repeats: int) -> float:
    """The median wall time of `repeats` runs of `work`, each timed between two waits for the device."""
    return float(np.median([_timed(device, work) for _ in range(repeats)]))


# Our classifier path with one of its speed-ups undone at a time, side by side with it: (Adam fused,
# BytewiseDropout, ReLU after the pool). The bench reports each as images per second.
_ONE_UNDONE = {
    "ours": (True, True, True),
    "ours_unfused_adam": (False, True, True),
    "ours_native_dropout": (True, False, True),
    "ours_relu_before_pool": (True, True, False),
}


def classifier_throughput(
    images: np.ndarray, labels: np.ndarray, paths: list[Path], batch: int, device: torch.device, repeats: int = 1
) -> dict[str, float]:
    """Images per second over one epoch, the median of `repeats` epochs (after a warm-up batch): ours at the
    workflow's default precision (`auto`) and in fp32, ours with each of its speed-ups undone in turn (the
    default per-parameter Adam, `nn.Dropout`, the paper's conv -> ReLU -> pool order), and the naive path."""
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    y_all = torch.from_numpy(labels).to(device)
    precision = resolve_precision("auto", device)
    runs = {name: (precision, *flags) for name, flags in _ONE_UNDONE.items()}
    runs["ours_fp32"] = ("fp32", *_ONE_UNDONE["ours"])
    seconds = {}
    for name, (p, fused, bytewise, relu_after_pool) in runs.items():
        gen = seed_everything(0, device)
        model = PaperCNN(images.shape[-1], relu_after_pool=relu_after_pool)
        model = (model if bytewise else with_native_dropout(model)).to(device, memory_format=torch.channels_last)
        opt = adam(model.parameters(), 1e-4, device) if fused else torch.optim.Adam(model.parameters(), 1e-4)
        step = ClassifierStep(model, opt, p)
        train_one_epoch(step, x_all[:batch], y_all[:batch], batch, gen)  # warm-up
        seconds[name] = median_seconds(device, lambda: train_one_epoch(step, x_all, y_all, batch, gen), repeats)

    seed_everything(0)
    # the network as the authors' code runs it: torch's own dropout, ReLU before each pool
    naive_model = with_native_dropout(PaperCNN(images.shape[-1], relu_after_pool=False)).to(device)
    naive_opt = torch.optim.Adam(naive_model.parameters(), 1e-4)
    loader = DataLoader(NaiveFaceFiles(paths, labels), batch_size=batch, shuffle=True, num_workers=0)

    def naive_epoch() -> None:
        naive_model.train()
        for x, y in loader:
            naive_classifier_step(naive_model, naive_opt, x.to(device), y.to(device))

    naive_classifier_step(
        naive_model, naive_opt, next(iter(loader))[0].to(device), torch.from_numpy(labels[:batch]).to(device)
    )
    naive = median_seconds(device, naive_epoch, repeats)
    n = len(images)
    return {
        "batch": batch,
        "precision": precision,
        **{f"{name}_images_per_s": n / s for name, s in seconds.items()},
        "naive_images_per_s": n / naive,
        "speedup": naive / seconds["ours"],
    }


def compiled_throughput(
    images: np.ndarray, labels: np.ndarray, batch: int, device: torch.device, backend: str = "inductor"
) -> dict[str, Any]:
    """Our path under `classifier.compile`: seconds to compile (the trial step and the first epoch's
    recompiles), then images per second over one epoch; `compiled` False when the compiler failed."""
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    y_all = torch.from_numpy(labels).to(device)
    precision = resolve_precision("auto", device)
    gen = seed_everything(0, device)
    model = PaperCNN(images.shape[-1]).to(device, memory_format=torch.channels_last)
    opt = adam(model.parameters(), 1e-4)
    start = time.perf_counter()
    net = compiled_or_eager(model, to_unit(x_all[:batch]), y_all[:batch], precision, backend)
    step = ClassifierStep(net, opt, precision)
    train_one_epoch(step, x_all, y_all, batch, gen)  # the last, smaller batch compiles once more
    wait_for_device(device)
    compile_seconds = time.perf_counter() - start
    seconds = _timed(device, lambda: train_one_epoch(step, x_all, y_all, batch, gen))
    return {
        "batch": batch,
        "precision": precision,
        "compiled": net is not model,
        "compile_seconds": compile_seconds,
        "images_per_s": len(images) / seconds,
    }


def stacked_throughput(
    images: np.ndarray,
    labels: np.ndarray,
    batch: int,
    n_seeds: int,
    device: torch.device,
    precision: str = "auto",
    capture: bool = True,
) -> dict[str, float]:
    """Images per second summed over models: n_seeds CNNs trained as one stacked model vs one CNN alone
    (both our path, batch `batch` per model, under `precision`; steps captured as CUDA graphs on a GPU unless
    `capture` is False)."""
    where = device if capture else None
    x_all = torch.from_numpy(images).unsqueeze(1).to(device)
    y_all = torch.from_numpy(labels).to(device)
    gens = [seed_everything(s, device) for s in range(n_seeds)]
    stack = StackedModels([PaperCNN(images.shape[-1]).to(device) for _ in range(n_seeds)])
    stacked_step = StackedStep(stack, adam(stack.params.values(), 1e-4, where), precision)
    train_stacked_epoch(stacked_step, x_all[:batch], y_all[:batch], batch, gens)  # warm-up
    stacked = _timed(device, lambda: train_stacked_epoch(stacked_step, x_all, y_all, batch, gens))
    model = PaperCNN(images.shape[-1]).to(device, memory_format=torch.channels_last)
    step = ClassifierStep(model, adam(model.parameters(), 1e-4, where), precision)
    train_one_epoch(step, x_all[:batch], y_all[:batch], batch, gens[0])
    single = _timed(device, lambda: train_one_epoch(step, x_all, y_all, batch, gens[0]))
    n = len(images)
    return {
        "batch": batch,
        "seeds": n_seeds,
        "stacked_images_per_s": n_seeds * n / stacked,
        "single_images_per_s": n / single,
        "speedup": (n_seeds * n / stacked) / (n / single),
    }


def classifier_in_this_process(image_size: int, batch: int, n_images: int, epochs: int, reuse: bool) -> dict[str, Any]:
    """Our classifier path on one thread, as a workflow job runs it, in this (fresh) process: images per second
    over `epochs` epochs after a warm-up epoch, and the page faults per training step; `reuse`: with
    seam.reuse_freed_memory, else with glibc's malloc as it comes."""
    import resource

    from synthfer.seam import reuse_freed_memory

    reused = reuse_freed_memory() if reuse else False
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x_all = torch.from_numpy(rng.integers(0, 256, (n_images, 1, image_size, image_size), dtype=np.uint8))
    y_all = torch.from_numpy(rng.integers(0, 6, n_images))
    gen = seed_everything(0, torch.device("cpu"))
    model = PaperCNN(image_size).to(memory_format=torch.channels_last)
    step = ClassifierStep(model, adam(model.parameters(), 1e-4))
    train_one_epoch(step, x_all, y_all, batch, gen)  # warm-up
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    seconds = _timed(
        torch.device("cpu"), lambda: [train_one_epoch(step, x_all, y_all, batch, gen) for _ in range(epochs)]
    )
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    steps = epochs * -(-n_images // batch)
    return {"reused": reused, "images_per_s": epochs * n_images / seconds, "page_faults_per_step": faults / steps}


def freed_memory_reuse(
    image_sizes: tuple[int, ...], batches: tuple[int, ...], n_images: int, epochs: int, rounds: int
) -> list[dict[str, Any]]:
    """seam.reuse_freed_memory on and off, each measurement in a fresh process (malloc's settings are per
    process), the two interleaved round by round; medians. A CPU matter: glibc's malloc is not CUDA's."""
    import json
    import subprocess
    import sys

    rows = []
    for size in image_sizes:
        for batch in batches:
            runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for r in range(rounds):
                for reuse in (False, True) if r % 2 == 0 else (True, False):
                    code = (
                        "import json, sys; from synthfer.bench import classifier_in_this_process as run; "
                        "print(json.dumps(run(*json.loads(sys.argv[1]))))"
                    )
                    args = json.dumps([size, batch, n_images, epochs, reuse])
                    out = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True, check=True)
                    runs[reuse].append(json.loads(out.stdout.strip().splitlines()[-1]))
            med = {k: {m: float(np.median([v[m] for v in vs])) for m in ("images_per_s", "page_faults_per_step")}
                   for k, vs in runs.items()}  # fmt: skip
            rows.append({"image_size": size, "batch": batch, "reused": runs[True][0]["reused"],
                         "default_images_per_s": med[False]["images_per_s"], "reuse_images_per_s": med[True]["images_per_s"],
                         "default_page_faults_per_step": med[False]["page_faults_per_step"],
                         "reuse_page_faults_per_step": med[True]["page_faults_per_step"],
                         "speedup": med[True]["images_per_s"] / med[False]["images_per_s"]})  # fmt: skip
    return rows


def paper_grid_minutes(
    settings: BenchSettings, single_images_per_s: float, stacked_images_per_s: float
) -> dict[str, float]:
    """GPU minutes of the paper's classifier grid at the measured throughputs, every run at its maximum
    epochs (an upper bound: early stopping ends most runs sooner); job start-up not included."""
    sizes = [settings.grid_real_images, settings.grid_unit_images] + [
        settings.grid_real_images + k * settings.grid_unit_images for k in settings.grid_ks
    ]
    image_epochs = settings.grid_seeds * settings.grid_epochs * sum(sizes)
    return {
        "runs": len(sizes) * settings.grid_seeds,
        "image_epochs": image_epochs,
        "separate_minutes": image_epochs / single_images_per_s / 60,
        "stacked_minutes": image_epochs / stacked_images_per_s / 60,
    }


def stargan_iterations_per_s(
    images: np.ndarray, domains: np.ndarray, paths: list[Path], cfg: StarGANConfig, device: torch.device
) -> dict[str, float]:
    """StarGAN iterations per second: ours (tensor in memory, losses never read back) vs batches decoded from
    files each iteration and every step's losses read back, as the original code logs them."""
    results = {}
    for mode in ("ours", "naive"):
        state = stargan_state(cfg, device)
        if mode == "naive":
            state.graphs.off("the naive reference steps eagerly, as the original code does")
        x_all = torch.from_numpy(images).unsqueeze(1).to(device)
        y_all = torch.from_numpy(domains).to(device)
        progress = Progress("bench", cfg.iterations + 1, every_s=3600)  # + 1: the warm-up iteration
        loader = DataLoader(
            NaiveFaceFiles(paths, domains), batch_size=cfg.batch_size, shuffle=True, num_workers=0, drop_last=True
        )
        batches = iter(loader)

        def step(it: int) -> None:
            nonlocal batches
            state.iteration = it
            if mode == "ours":
                stargan_step(state, draw_batch(x_all, y_all, cfg.batch_size, state.random), cfg)
                return
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, y = next(batches)
            x_u8 = (x * 255).round().to(torch.uint8).to(device)  # the decoded batch is the whole "set" this step
            batch = draw_batch(x_u8, y.to(device), cfg.batch_size, state.random)
            losses = stargan_step(state, batch, cfg, precision="fp32")  # the authors' code trains in fp32
            state.log(losses, progress)  # the authors' code logs every step's losses: a host sync per iteration

        step(1)  # warm-up
        n = cfg.iterations
        results[mode] = n / _timed(device, lambda: [step(i) for i in range(2, n + 2)])
    return {
        "ours_iterations_per_s": results["ours"],
        "naive_iterations_per_s": results["naive"],
        "speedup": results["ours"] / results["naive"],
    }


def classifier_flops_per_image(image_size: int) -> float:
    """FLOPs of one training step (forward + backward) per image, counted by torch's FLOP counter."""
    model = PaperCNN(image_size)
    x = torch.zeros(8, 1, image_size, image_size)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), torch.zeros(8, dtype=torch.long)).backward()
    return counter.get_total_flops() / 8


def measured_peaks(device: torch.device, n: int) -> dict[str, float]:
    """Achievable FLOP/s of this device at the precision our classifier path trains in: a large matmul, and a
    conv shaped like the CNN's widest layer."""
    dtype = torch.bfloat16 if resolve_precision("auto", device) == "bf16" else torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    reps = 10 if device.type == "cuda" else 3
    matmul = _timed(device, lambda: [a @ b for _ in range(reps)])
    x = torch.randn(64, 64, 32, 32, device=device, dtype=dtype)
    w = torch.randn(128, 64, 3, 3, device=device, dtype=dtype)
    F.conv2d(x, w)
    conv = _timed(device, lambda: [F.conv2d(x, w) for _ in range(reps)])
    conv_flops = 2 * 64 * 128 * 64 * 9 * 30 * 30
    return {
        "dtype": str(dtype).removeprefix("torch."),
        "matmul_flops_per_s": reps * 2 * n**3 / matmul,
        "conv_flops_per_s": reps * conv_flops / conv,
    }


def scaling(
    images: np.ndarray, labels: np.ndarray, ks: tuple[int, ...], n_real: int, device: torch.device
) -> list[dict[str, float]]:
    """Wall time of one epoch at batch 16 as the training set grows to real + k units."""
    rows = []
    for k in ks:
        n = n_real * (1 + k)
        idx = np.arange(n) % len(images)
        gen = seed_everything(0, device)
        model = PaperCNN(images.shape[-1]).to(device, memory_format=torch.channels_last)
        step = ClassifierStep(model, adam(model.parameters(), 1e-4, device))
        x_all = torch.from_numpy(images[idx]).unsqueeze(1).to(device)
        y_all = torch.from_numpy(labels[idx]).to(device)
        seconds = _timed(device, lambda: train_one_epoch(step, x_all, y_all, 16, gen))
        rows.append({"k": k, "images": n, "seconds": seconds, "seconds_per_1000_images": 1000 * seconds / n})
    return rows


def run_bench(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    rng = np.random.default_rng(settings.seed)
    s = settings.image_size
    images = rng.integers(0, 256, size=(settings.n_images, s, s), dtype=np.uint8)
    labels = rng.integers(0, 6, size=settings.n_images).astype(np.int64)
    domains = rng.integers(0, 7, size=settings.n_images).astype(np.int64)
    conv_dim, repeat = settings.stargan
    stargan_cfg = StarGANConfig(
        image_size=s,
        conv_dim=conv_dim,
        d_conv_dim=conv_dim,
        g_repeat=repeat,
        iterations=settings.stargan_iterations,
        batch_size=16,
        log_every=10**9,
        sample_every=10**9,
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_image_files(images, Path(tmp))
        classifier = [
            classifier_throughput(images, labels, paths, b, device, settings.repeats) for b in settings.batch_sizes
        ]
        stargan = stargan_iterations_per_s(images, domains, paths, stargan_cfg, device)
    flops = classifier_flops_per_image(s)
    peaks = measured_peaks(device, settings.gpu_matmul_size if device.type == "cuda" else settings.matmul_size)
    best = max(row["ours_images_per_s"] for row in classifier)
    achieved = best * flops
    growth = scaling(images, labels, settings.scaling_ks, settings.scaling_real, device)
    stacked = stacked_throughput(images, labels, 16, settings.stacked_seeds, device)
    compiled = compiled_throughput(images, labels, 16, device) if settings.compile else None
    grid = paper_grid_minutes(settings, stacked["single_images_per_s"], stacked["stacked_images_per_s"])
    memory = (
        freed_memory_reuse(
            settings.memory_sizes, settings.batch_sizes, settings.n_images // 2, 2, settings.memory_rounds
        )
        if device.type == "cpu"
        else None
    )
    per_image = [r["seconds_per_1000_images"] for r in growth]
    return {
        "settings": asdict(settings),
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "precision": resolve_precision("auto", device),
        "cpu_native_bf16": cpu_has_native_bf16(),
        "classifier": classifier,
        "stargan": {**stargan, "conv_dim": conv_dim, "residual_blocks": repeat, "batch": 16},
        "flops": {
            "classifier_train_flops_per_image": flops,
            **peaks,
            "classifier_achieved_flops_per_s": achieved,
            "fraction_of_matmul_peak": achieved / peaks["matmul_flops_per_s"],
            "fraction_of_conv_peak": achieved / peaks["conv_flops_per_s"],
        },
        "scaling": growth,
        "stacked_seeds": stacked,
        "compiled": compiled,
        "paper_grid": grid,
        "freed_memory_reuse": memory,
        "scaling_max_over_min_time_per_image": max(per_image) / min(per_image),
    }


def markdown_table(result: dict[str, Any]) -> str:
    """The bench as docs/performance.md's table."""
    lines = [
        f"Device: {result['device']}; torch {result['versions']['torch']}; image {result['settings']['image_size']} px; "
        f"our path trains in {result['precision']} (`classifier.precision: auto`).",
        "",
        "| measure | ours | naive | ratio |",
        "|---|---|---|---|",
    ]
    for row in result["classifier"]:
        lines.append(
            f"| classifier training, batch {row['batch']}, ours in {row['precision']} (images/s) | "
            f"{row['ours_images_per_s']:.0f} | {row['naive_images_per_s']:.0f} | {row['speedup']:.2f}x |"
        )
        lines.append(
            f"| the same, with the default (per-parameter) Adam instead of the fused one (images/s) | "
            f"{row['ours_unfused_adam_images_per_s']:.0f} | {row['naive_images_per_s']:.0f} | "
            f"{row['ours_unfused_adam_images_per_s'] / row['naive_images_per_s']:.2f}x |"
        )
        lines.append(
            f"| the same, with `nn.Dropout` instead of `BytewiseDropout` (images/s) | "
            f"{row['ours_native_dropout_images_per_s']:.0f} | {row['naive_images_per_s']:.0f} | "
            f"{row['ours_native_dropout_images_per_s'] / row['naive_images_per_s']:.2f}x |"
        )
        lines.append(
            f"| the same, with the paper's ReLU before each pool instead of after it (images/s) | "
            f"{row['ours_relu_before_pool_images_per_s']:.0f} | {row['naive_images_per_s']:.0f} | "
            f"{row['ours_relu_before_pool_images_per_s'] / row['naive_images_per_s']:.2f}x |"
        )
        if row["precision"] != "fp32":
            lines.append(
                f"| classifier training, batch {row['batch']}, ours in fp32 (images/s) | "
                f"{row['ours_fp32_images_per_s']:.0f} | {row['naive_images_per_s']:.0f} | "
                f"{row['ours_fp32_images_per_s'] / row['naive_images_per_s']:.2f}x |"
            )
    sg = result["stargan"]
    lines.append(
        f"| StarGAN training, conv {sg['conv_dim']}, {sg['residual_blocks']} blocks, ours in {result['precision']}, "
        f"naive in fp32 (iterations/s) | "
        f"{sg['ours_iterations_per_s']:.2f} | {sg['naive_iterations_per_s']:.2f} | {sg['speedup']:.2f}x |"
    )
    fl = result["flops"]
    lines += [
        "",
        f"Classifier: {fl['classifier_train_flops_per_image'] / 1e9:.3f} GFLOP per image per training step; achieved "
        f"{fl['classifier_achieved_flops_per_s'] / 1e9:.1f} GFLOP/s = {100 * fl['fraction_of_matmul_peak']:.0f}% of the "
        f"measured {fl['dtype']} matmul peak ({fl['matmul_flops_per_s'] / 1e9:.0f} GFLOP/s), "
        f"{100 * fl['fraction_of_conv_peak']:.0f}% of the conv peak ({fl['conv_flops_per_s'] / 1e9:.0f} GFLOP/s).",
        "",
        "| k | images | seconds per epoch | s per 1000 images |",
        "|---|---|---|---|",
    ]
    for row in result["scaling"]:
        lines.append(f"| {row['k']} | {row['images']} | {row['seconds']:.2f} | {row['seconds_per_1000_images']:.2f} |")
    st, grid = result["stacked_seeds"], result["paper_grid"]
    lines += [
        "",
        f"Stacked seeds (`experiment.stack_seeds`): {st['seeds']} CNNs trained as one at batch {st['batch']} each: "
        f"{st['stacked_images_per_s']:.0f} images/s over all models vs {st['single_images_per_s']:.0f} for one CNN alone ({st['speedup']:.2f}x).",
        f"Paper grid ({grid['runs']} runs, {grid['image_epochs'] / 1e6:.1f} M image-epochs, every run to its maximum epochs): "
        f"{grid['separate_minutes']:.1f} device-minutes one run at a time, {grid['stacked_minutes']:.1f} with stacked seeds (job start-up not included).",
    ]
    comp = result.get("compiled")
    if comp:
        naive16 = next((r["naive_images_per_s"] for r in result["classifier"] if r["batch"] == comp["batch"]), None)
        if comp["compiled"]:
            lines.append(
                f"torch.compile (`classifier.compile`), batch {comp['batch']}, {comp['precision']}: {comp['images_per_s']:.0f} images/s after "
                f"{comp['compile_seconds']:.0f} s of compiling"
                + (f" ({comp['images_per_s'] / naive16:.2f}x the naive path)." if naive16 else ".")
            )
        else:
            lines.append(
                f"torch.compile (`classifier.compile`) failed on this machine; the classifier trains eagerly ({comp['images_per_s']:.0f} images/s)."
            )
    if result.get("freed_memory_reuse"):
        lines += [
            "",
            "Freed memory kept for reuse (`seam.reuse_freed_memory`, every workflow job) against glibc's malloc as it "
            "comes, one thread, each in a fresh process:",
            "",
            "| image px | batch | images/s, glibc default | images/s, reused | ratio | page faults per step, default | reused |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['image_size']} | {r['batch']} | {r['default_images_per_s']:.0f} | {r['reuse_images_per_s']:.0f} | "
            f"{r['speedup']:.2f}x | {r['default_page_faults_per_step']:.0f} | {r['reuse_page_faults_per_step']:.0f} |"
            for r in result["freed_memory_reuse"]
        ]
    lines.append(
        f"\nTime per image varies by {result['scaling_max_over_min_time_per_image']:.2f}x from the smallest to the largest set (1.0 = perfectly linear)."
    )
    return "\n".join(lines) + "\n"
