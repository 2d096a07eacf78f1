"""GAN training survives being stopped: SIGTERM and SIGKILL mid-run, restart, same final weights."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from synthfer.train.resume import CHECKPOINT, PREVIOUS, Checkpointer

HELPER = Path(__file__).parent / "helpers" / "train_gan.py"


def _start(kind: str, work: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HELPER), kind, str(work), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _run(kind: str, work: Path, out: Path) -> str:
    proc = _start(kind, work, out)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output[-3000:]
    return output


def _interrupt(kind: str, work: Path, out: Path, sig: int) -> str:
    """Start training, wait for its first checkpoint, then send `sig`."""
    proc = _start(kind, work, out)
    deadline = time.monotonic() + 120
    while not (work / CHECKPOINT).exists():
        assert proc.poll() is None and time.monotonic() < deadline, "training ended before its first checkpoint"
        time.sleep(0.02)
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and not out.exists(), "an interrupted run must fail without a final model"
    return output


def _same_result(a: Path, b: Path) -> None:
    x, y = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    assert x["weights"].keys() == y["weights"].keys()
    for name in x["weights"]:
        torch.testing.assert_close(x["weights"][name], y["weights"][name], rtol=0, atol=0, msg=name)
    torch.testing.assert_close(x["losses"], y["losses"], equal_nan=True)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("uninterrupted")
    outs = {}
    for kind in ("stargan", "identity", "stylegan", "ecyclegan"):
        outs[kind] = root / f"{kind}.pt"
        _run(kind, root / kind, outs[kind])
        assert not (root / kind / CHECKPOINT).exists()  # cleared once training finished
    return outs


@pytest.mark.parametrize(
    "kind, sig",
    [
        ("stargan", signal.SIGTERM),
        ("stargan", signal.SIGKILL),
        ("identity", signal.SIGTERM),
        ("stylegan", signal.SIGTERM),
        ("ecyclegan", signal.SIGKILL),
    ],
)
def test_a_stopped_training_resumes_to_the_same_weights(kind, sig, uninterrupted, tmp_path):
    work, out = tmp_path / "work", tmp_path / "model.pt"
    output = _interrupt(kind, work, out, sig)
    if sig == signal.SIGTERM:
        assert "SIGTERM at iteration" in output  # checkpointed on the signal, then stopped
    assert (work / CHECKPOINT).exists()
    resumed = _run(kind, work, out)
    assert "resuming from" in resumed
    _same_result(out, uninterrupted[kind])


def _state(iteration: int) -> dict:
    return {"w": torch.full((3,), float(iteration))}


def test_a_corrupt_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog):
    ckpt = Checkpointer(tmp_path, every=1, key={"config": {"a": 1}, "data": "x"})
    ckpt.save(1, _state(1))
    ckpt.save(2, _state(2))
    data = (tmp_path / CHECKPOINT).read_bytes()
    (tmp_path / CHECKPOINT).write_bytes(data[: len(data) // 2])  # truncated, as by a crash or a full disk
    with caplog.at_level(logging.WARNING, logger="synthfer"):
        state = ckpt.load()
    assert state["iteration"] == 1 and torch.equal(state["w"], torch.ones(3))
    assert "unreadable" in caplog.text and "trying the previous one" in caplog.text


def test_a_checkpoint_cannot_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    ckpt = Checkpointer(tmp_path, every=1, key={"config": {}, "data": "x"})
    torch.save({"key": {"config": {}, "data": "x"}, "iteration": 5, "payload": Evil()}, tmp_path / CHECKPOINT)
    assert ckpt.load() is None and not (tmp_path / "pwned").exists()


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path):
    Checkpointer(tmp_path, every=1, key={"config": {"lr": 1}, "data": "x"}).save(3, _state(3))
    assert Checkpointer(tmp_path, every=1, key={"config": {"lr": 2}, "data": "x"}).load() is None
    assert Checkpointer(tmp_path, every=1, key={"config": {"lr": 1}, "data": "y"}).load() is None
    assert Checkpointer(tmp_path, every=1, key={"config": {"lr": 1}, "data": "x"}).load()["iteration"] == 3
    assert not (tmp_path / PREVIOUS).exists()
