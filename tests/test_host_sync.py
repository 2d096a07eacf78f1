"""The training loops never wait for the device between log lines.

On a GPU, a value read back to the host (`.item()`, `float(t)`, `bool(t)`) waits for every queued kernel, and
so does a blocking copy of a CPU-drawn random tensor to the GPU. On the CPU we can see the first kind: every
read of a tensor's value is an `aten._local_scalar_dense` call, and we record those made directly by our code
(torch's own bookkeeping, such as Adam's step count on the host, is not ours). The second kind only exists on a
GPU: the CUDA test at the end runs the loops under torch's sync debug mode, which raises on any synchronising
call, and is skipped where no GPU is visible.
"""

from __future__ import annotations

import copy
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils._python_dispatch import TorchDispatchMode

import synthfer.train.cyclegan as cyclegan
import synthfer.train.identity_gan as identity_gan
import synthfer.train.stargan as stargan
from synthfer.models.classifier import PaperCNN
from synthfer.runtime import seed_everything
from synthfer.train.classifier import ClassifierStep, train_one_epoch
from synthfer.train.ema import EMA
from synthfer.train.stacked import StackedModels, StackedStep, train_stacked_epoch

SRC = str(Path(__file__).resolve().parents[1] / "src" / "synthfer")
TORCH_WRAPPERS = ("torch/_dynamo/", "torch/_compile.py", "torch/utils/_python_dispatch.py")


class HostReads(TorchDispatchMode):
    """Records the file:line of our code that reads a tensor's value back to the host, with the iteration it
    happened in (`iteration`, set by the caller)."""

    def __init__(self) -> None:
        super().__init__()
        self.state = None  # the GAN state of the loop watched: its iteration is the one a read happens in
        self.iteration = 0
        self.reads: list[tuple[int, str]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204 - torch's protocol
        if func is torch.ops.aten._local_scalar_dense.default:
            frame = sys._getframe(1)
            while frame is not None and any(w in frame.f_code.co_filename.replace("\\", "/") for w in TORCH_WRAPPERS):
                frame = frame.f_back
            if frame is not None and frame.f_code.co_filename.startswith(SRC):
                iteration = self.state.iteration if self.state is not None else self.iteration
                self.reads.append((iteration, f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"))
        return func(*args, **(kwargs or {}))


@contextmanager
def watched(module, name: str):  # noqa: ANN001
    """Runs a training loop with every host read recorded against the iteration its GAN state is on (set by
    train_loop before the batch is drawn, so reads while drawing, stepping and logging all count)."""
    reads = HostReads()
    step = getattr(module, name)

    def counted(state, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        reads.state = state
        return step(state, *args, **kwargs)

    setattr(module, name, counted)
    try:
        with reads:
            yield reads
    finally:
        setattr(module, name, step)


def _logged(it: int, every: int, last: int) -> bool:
    return it % every == 0 or it == last


FACES = np.random.default_rng(0).integers(0, 256, size=(24, 16, 16), dtype=np.uint8)


def _stargan(device: torch.device, work: Path) -> stargan.StarGANConfig:
    cfg = stargan.StarGANConfig(
        image_size=16,
        conv_dim=8,
        d_conv_dim=8,
        g_repeat=1,
        d_repeat=3,
        iterations=12,
        batch_size=4,
        n_critic=2,
        ema_decay=0.9,
        log_every=5,
        sample_every=100,
        checkpoint_every=0,
    )
    stargan.train_stargan(FACES, np.arange(len(FACES)) % 7, cfg, device, work)
    return cfg


def _identity(device: torch.device, work: Path) -> identity_gan.IdentityGANConfig:
    cfg = identity_gan.IdentityGANConfig(
        image_size=16,
        architecture="stylegan",
        z_dim=8,
        w_dim=8,
        mapping_layers=2,
        width=4,
        iterations=12,
        batch_size=4,
        r1_gamma=1.0,
        ema_decay=0.9,
        log_every=5,
        sample_every=100,
        checkpoint_every=0,
    )
    identity_gan.train_identity_gan(FACES, cfg, device, work)
    return cfg


def _cyclegan(device: torch.device, work: Path) -> cyclegan.CycleGANConfig:
    # a pool smaller than the batch, label flips, instance noise and alternate critic steps: every stateful part
    cfg = cyclegan.CycleGANConfig(
        image_size=16,
        variant="ecyclegan",
        ngf=4,
        ndf=4,
        blocks=1,
        sub_blocks=2,
        d_layers=2,
        pool_size=3,
        label_flip=0.2,
        instance_noise=0.1,
        g_per_d=2,
        iterations=12,
        batch_size=4,
        log_every=5,
        sample_every=100,
        checkpoint_every=0,
    )
    cyclegan.train_cyclegan(FACES[:12], FACES[12:], cfg, device, work)
    return cfg


LOOPS = {
    "stargan": (stargan, "stargan_step", _stargan),
    "identity": (identity_gan, "identity_step", _identity),
    "cyclegan": (cyclegan, "cyclegan_step", _cyclegan),
}


@pytest.mark.parametrize("kind", list(LOOPS))
def test_gan_loops_read_values_back_only_when_they_log(kind, tmp_path):
    module, name, train = LOOPS[kind]
    with watched(module, name) as reads:
        cfg = train(torch.device("cpu"), tmp_path)
    outside = [(it, site) for it, site in reads.reads if not _logged(it, cfg.log_every, cfg.iterations)]
    assert not outside, f"host reads between log lines (iteration, site): {outside}"
    assert {it for it, _ in reads.reads} <= {
        5,
        10,
        12,
    } and reads.reads  # the logging itself is seen, so the probe works


@pytest.mark.parametrize("kind", list(LOOPS))
@pytest.mark.parametrize("native_bf16", [True, False])
def test_gan_loops_train_in_bf16_only_on_a_cpu_with_bf16_units(kind, native_bf16, tmp_path, monkeypatch):
    """As the classifiers do: convolutions in bf16 where the CPU has bf16 units, in fp32 elsewhere. (StarGAN's
    gradient penalty runs outside autocast, so fp32 convolutions are seen in both cases.)"""
    from synthfer import runtime

    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native_bf16)
    seen: set[torch.dtype] = set()

    def record(module: torch.nn.Module, args: tuple, out: object) -> None:
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            seen.add(out.dtype)

    handle = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        LOOPS[kind][2](torch.device("cpu"), tmp_path)
    finally:
        handle.remove()
    assert (torch.bfloat16 in seen) == native_bf16, seen
    assert seen <= {torch.bfloat16, torch.float32}


def test_classifier_epochs_read_nothing_back():
    faces = np.random.default_rng(1).integers(0, 256, size=(24, 32, 32), dtype=np.uint8)
    x, y = torch.from_numpy(faces).unsqueeze(1), torch.arange(len(faces)) % 6
    model = PaperCNN(32)
    opt = torch.optim.Adam(model.parameters())
    with HostReads() as reads:
        running, correct = train_one_epoch(
            ClassifierStep(model, opt, "fp32"), x, y, 4, seed_everything(0), augment=True
        )
    assert reads.reads == []
    assert running.item() > 0 and 0 <= correct.item() <= len(faces)

    stack = StackedModels([PaperCNN(32) for _ in range(2)])
    opt = torch.optim.Adam(list(stack.params.values()))
    with HostReads() as reads:
        running, correct = train_stacked_epoch(
            StackedStep(stack, opt, "fp32"), x, y, 4, [seed_everything(s) for s in range(2)], augment=True
        )
    assert reads.reads == []
    assert running.shape == (2,) and bool((running > 0).all())


def test_ema_averages_like_torchs_averaged_model_and_keeps_its_state_dict():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    reference = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    ema = EMA(model, 0.9, use_buffers=True)
    for _ in range(4):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        model(torch.randn(8, 4))  # moves the running statistics
        reference.update_parameters(model)
        ema.update_parameters(model)
    ours, theirs = ema.state_dict(), reference.state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if value.is_floating_point():
            torch.testing.assert_close(ours[key], value, msg=key)
    assert int(ours["n_averaged"]) == 4
    assert not torch.allclose(ours["module.0.weight"], model[0].weight)  # an average, not a copy

    resumed = EMA(copy.deepcopy(model), 0.9, use_buffers=True)  # a restarted job: the count comes from the checkpoint
    resumed.load_state_dict(ours)
    ema.update_parameters(model)
    resumed.update_parameters(model)
    torch.testing.assert_close(resumed.state_dict(), ema.state_dict())


@pytest.mark.parametrize("kind", list(LOOPS))
def test_gan_loops_ask_for_their_generator_on_the_training_device(kind, tmp_path, monkeypatch):
    module, _, train = LOOPS[kind]
    asked = []

    def recording(seed, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        asked.append((*args, *kwargs.values()))
        return seed_everything(seed, *args, **kwargs)

    monkeypatch.setattr(module, "seed_everything", recording)
    train(torch.device("cpu"), tmp_path)
    assert asked == [(torch.device("cpu"),)]  # the device is passed on, not left to the CPU default


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device: the blocking copies only exist on a GPU"
)
@pytest.mark.parametrize("kind", list(LOOPS))
def test_gan_loops_do_not_synchronise_the_gpu_between_log_lines(kind, tmp_path):
    module, name, train = LOOPS[kind]
    step = getattr(module, name)
    last: dict[str, int] = {}

    def strict(state, batch, cfg):  # noqa: ANN001, ANN202
        it = state.iteration
        quiet = not _logged(it, cfg.log_every, cfg.iterations) and it % cfg.sample_every != 0 and it > 1
        torch.cuda.set_sync_debug_mode("error" if quiet else "default")
        try:
            return step(state, batch, cfg)
        finally:
            torch.cuda.set_sync_debug_mode("default")
            last["it"] = it

    setattr(module, name, strict)
    try:
        train(torch.device("cuda"), tmp_path)
    finally:
        setattr(module, name, step)
    assert last["it"] == 12
