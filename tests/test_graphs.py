"""Training steps as CUDA graphs: eager on a CPU, a switch and a fallback with their reasons logged, and on a GPU
(skipped elsewhere) captured steps that follow the eager ones."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from synthfer.settings import ClassifierConfig, CycleGANConfig, StarGANConfig
from synthfer.train import cyclegan, stargan
from synthfer.train.classifier import ClassifierStep, adam
from synthfer.train.graphs import SWITCH, StepGraphs, adam_for, eager_reason, set_lr

CPU = torch.device("cpu")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device: graphs exist only there")


def test_on_a_cpu_steps_run_eagerly_and_say_why(caplog):
    with caplog.at_level(logging.INFO, logger="synthfer"):
        graphs = StepGraphs(CPU, "test step")
    assert not graphs.captured and "CUDA graphs exist only on CUDA devices" in caplog.text
    calls = []
    assert graphs("k", lambda x: calls.append(x) or x * 2, torch.ones(2)).tolist() == [2.0, 2.0]
    assert len(calls) == 1 and graphs.graphs == {}  # called directly, nothing captured
    assert graphs.level("noise", 0.25) == 0.25  # a number stays a number
    opt = adam_for([torch.nn.Parameter(torch.zeros(3))], 1e-3, CPU, betas=(0.5, 0.999))
    assert opt.param_groups[0]["lr"] == 1e-3 and not opt.param_groups[0]["capturable"]  # torch's default Adam
    set_lr(opt, 5e-4)
    assert opt.param_groups[0]["lr"] == 5e-4
    model = torch.nn.Linear(4, 2)
    assert ClassifierStep(model, adam(model.parameters(), 1e-3, CPU)).graphs is None


def test_the_switch_turns_capture_off_on_a_gpu_too(monkeypatch):
    cuda = torch.device("cuda")
    monkeypatch.delenv(SWITCH, raising=False)
    assert eager_reason(cuda) is None
    monkeypatch.setenv(SWITCH, "0")
    assert eager_reason(cuda) == f"{SWITCH}=0"


def test_a_failed_capture_falls_back_to_eager_steps_with_its_reason(monkeypatch, caplog):
    """A step that cannot be captured (here: no CUDA at all, or an op graphs refuse) still trains, eagerly."""
    monkeypatch.setattr("synthfer.train.graphs.eager_reason", lambda device: None)
    graphs = StepGraphs(torch.device("cuda"), "test step", warmup=0)
    monkeypatch.setattr(graphs, "_capture", lambda *a: (_ for _ in ()).throw(RuntimeError("operation not permitted")))
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    with caplog.at_level(logging.WARNING, logger="synthfer"):
        out = graphs("k", lambda x: x + 1, torch.zeros(2))
    assert out.tolist() == [1.0, 1.0]
    assert "eager steps from here on (capture failed: RuntimeError: operation not permitted)" in caplog.text
    assert not graphs.captured and graphs("k", lambda x: x - 1, torch.zeros(1)).tolist() == [-1.0]


def test_turned_off_a_state_steps_eagerly():
    graphs = StepGraphs(CPU, "test step")
    graphs.off("a reference path")
    assert graphs.reason == "a reference path" and not graphs.captured


# --- on a GPU: a captured step follows the eager one -------------------------------------------------------------
# Both runs make the same draws (the graphs' generators are registered, so a replay draws what an eager step would)
# and the same kernels, so the losses agree to the rounding of bf16 sums; what may differ is the order of atomic
# adds in cuDNN's backward kernels, which compounds over steps. 20 steps at 5% relative: far below what another
# seed or another batch gives (the test checks that too).

N_STEPS = 20


def _classifier_losses(capture: bool, seed: int = 0) -> list[float]:
    device = torch.device("cuda")
    torch.manual_seed(seed)
    model = ClassifierConfig(image_size=32).build().to(device, memory_format=torch.channels_last)
    step = ClassifierStep(model, adam(model.parameters(), 1e-3, device if capture else None), "bf16")
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((N_STEPS, 16, 1, 32, 32), dtype=np.float32)).to(device)
    y = torch.from_numpy(rng.integers(0, 6, (N_STEPS, 16))).to(device)
    model.train()
    torch.manual_seed(seed)  # the same dropout masks
    return [float(step(x[i].contiguous(memory_format=torch.channels_last), y[i])[0]) for i in range(N_STEPS)]


def _gan_losses(kind: str, capture: bool, seed: int = 0) -> list[float]:
    device = torch.device("cuda")
    faces = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (64, 1, 32, 32), dtype=np.uint8)).to(device)
    if kind == "stargan":
        cfg = StarGANConfig(image_size=32, conv_dim=16, d_conv_dim=16, g_repeat=2, batch_size=8, seed=seed, n_critic=2)
        state = stargan.stargan_state(cfg, device)
        domains = torch.arange(len(faces), device=device) % 7

        def step() -> dict:
            return stargan.stargan_step(state, stargan.draw_batch(faces, domains, cfg.batch_size, state.random), cfg)
    else:
        cfg = CycleGANConfig(image_size=32, ngf=16, ndf=16, blocks=2, batch_size=8, pool_size=16, seed=seed)
        cfg.instance_noise, cfg.label_flip = 0.1, 0.05  # the noise level and flips change every step
        state = cyclegan.cyclegan_state(cfg, device)

        def step() -> dict:
            batch = (cyclegan._batch(faces[:32], 8, state.random), cyclegan._batch(faces[32:], 8, state.random))
            return cyclegan.cyclegan_step(state, batch, cfg)

    if not capture:
        state.graphs.off("the eager reference")
    losses = []
    for it in range(1, N_STEPS + 1):
        state.iteration = it
        out = step()
        losses.append(
            float(out["d_gp" if kind == "stargan" else "d_loss"])
            + float(out["g_rec" if kind == "stargan" else "g_cyc"])
        )
    assert state.graphs.captured == capture and (not capture or state.graphs.graphs)  # really replayed graphs
    return losses


@needs_cuda
@pytest.mark.parametrize("kind", ["classifier", "stargan", "cyclegan"])
def test_a_captured_step_follows_the_eager_one_on_a_gpu(kind):
    run = _classifier_losses if kind == "classifier" else lambda capture, seed=0: _gan_losses(kind, capture, seed)
    eager, captured, other_seed = run(False), run(True), run(False, 1)
    np.testing.assert_allclose(captured, eager, rtol=0.05, atol=1e-3)
    assert not np.allclose(other_seed, eager, rtol=0.05, atol=1e-3)  # the tolerance tells runs apart
