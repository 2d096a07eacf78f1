"""The bench compares like with like: our path and the naive path compute the same thing."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synthfer.bench import NaiveFaceFiles, write_image_files
from synthfer.models.classifier import PaperCNN
from synthfer.tensors import to_unit

ROOT = Path(__file__).resolve().parents[1]


def _run_script(name: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """One of scripts/ in a fresh process, as a user starts it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def test_fast_and_naive_paths_give_the_same_loss_and_gradients(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(8, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 6, size=8).astype(np.int64)
    naive_set = NaiveFaceFiles(write_image_files(images, tmp_path), labels)
    torch.manual_seed(0)
    naive = PaperCNN(32, relu_after_pool=False).eval()  # eval: dropout off, so both see the same network
    ours = PaperCNN(32).eval().to(memory_format=torch.channels_last)
    ours.load_state_dict(naive.state_dict())

    x_naive = torch.stack([naive_set[i][0] for i in range(8)])
    loss_naive = F.cross_entropy(naive(x_naive), torch.tensor([naive_set[i][1] for i in range(8)]))
    loss_naive.backward()
    x_ours = to_unit(torch.from_numpy(images).unsqueeze(1)).contiguous(memory_format=torch.channels_last)
    loss_ours = F.cross_entropy(ours(x_ours), torch.from_numpy(labels))
    loss_ours.backward()

    torch.testing.assert_close(loss_ours, loss_naive, rtol=1e-5, atol=1e-6)
    for (name, a), b in zip(ours.named_parameters(), naive.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_quick_bench_writes_a_well_formed_report(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = _run_script("bench.py", "--quick", "--device", "cpu", "--out", str(tmp_path / "out"), cwd=cwd)
    assert list(cwd.iterdir()) == []  # nothing written where the bench was started (sample grids, loss plots)
    tmp_path = tmp_path / "out"
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert {row["batch"] for row in bench["classifier"]} == {16, 64}
    for row in bench["classifier"]:
        assert row["ours_images_per_s"] > 0 and row["naive_images_per_s"] > 0
        assert abs(row["speedup"] - row["ours_images_per_s"] / row["naive_images_per_s"]) < 1e-9
        undone = ("unfused_adam", "native_dropout", "relu_before_pool")  # each speed-up undone in turn, timed
        assert all(row[f"ours_{name}_images_per_s"] > 0 for name in undone)
    assert [r["k"] for r in bench["scaling"]] == [0, 1, 5, 20]
    assert [r["images"] for r in bench["scaling"]] == [16, 32, 96, 336]
    assert 0 < bench["flops"]["fraction_of_matmul_peak"] and bench["flops"]["classifier_train_flops_per_image"] > 1e6
    assert bench["stargan"]["ours_iterations_per_s"] > 0 and "torch" in bench["versions"]
    st = bench["stacked_seeds"]
    assert st["seeds"] == 2 and abs(st["speedup"] - st["stacked_images_per_s"] / st["single_images_per_s"]) < 1e-9
    grid = bench["paper_grid"]
    assert grid["runs"] == 11 * 5 and grid["image_epochs"] == 5 * 50 * (2000 + 654 + 9 * 2000 + 654 * 66)
    assert grid["stacked_minutes"] == grid["image_epochs"] / st["stacked_images_per_s"] / 60
    assert "| classifier training, batch 16" in (tmp_path / "bench.md").read_text()
    assert bench["precision"] in ("fp32", "bf16") and all(
        row["precision"] == bench["precision"] for row in bench["classifier"]
    )
    assert bench["compiled"] is None  # --quick leaves torch.compile's minutes of compiling out
    memory = bench["freed_memory_reuse"]  # on glibc: the reused side really ran with its setting, in its own process
    assert [(r["image_size"], r["batch"]) for r in memory] == [(32, 16), (32, 64)]
    assert all(r["reused"] == (platform.libc_ver()[0] == "glibc") and r["reuse_images_per_s"] > 0 for r in memory)


def test_gan_speed_times_the_workflows_gan_steps_and_prices_the_configured_iterations():
    from synthfer.gan_speed import gan_speed
    from synthfer.settings import CycleGANConfig, IdentityGANConfig, StarGANConfig

    cpu = torch.device("cpu")
    star = StarGANConfig(image_size=32, conv_dim=8, d_conv_dim=8, g_repeat=1, d_repeat=4, iterations=600, batch_size=4)
    ident = IdentityGANConfig(
        image_size=32, architecture="stylegan", z_dim=16, w_dim=16, width=8, batch_size=4, iterations=900
    )
    cycle = CycleGANConfig(image_size=32, ngf=8, ndf=8, blocks=1, batch_size=4, iterations=300, pool_size=4)
    for kind, cfg in (("stargan", star), ("cyclegan", cycle), ("identity_gan", ident)):
        row = gan_speed(kind, cfg, 2, cpu, warmup=1)
        assert row["gan"] == kind and row["iterations_timed"] == 2 and row["batch_size"] == 4
        assert row["iterations_per_s"] > 0 and row["peak_memory_gib"] is None  # torch counts no CPU peak
        assert row["configured_minutes"] == pytest.approx(cfg.iterations / row["iterations_per_s"] / 60)
        assert not row["captured"] and "cpu" in row["eager_reason"]  # CUDA graphs only on a GPU
    with pytest.raises(ValueError, match="identity_gan"):
        gan_speed("stylegan3", star, 1, cpu)


def test_headroom_measures_each_lever_and_prices_the_grid_at_each_stacking(monkeypatch):
    from synthfer import bench
    from synthfer import headroom as headroom_module
    from synthfer.bench import BenchSettings, paper_grid_minutes
    from synthfer.headroom import headroom

    trained_in: set[tuple[str, str]] = set()  # (loop, precision): each precision must reach the training loops

    def watch(name, loop):
        def run(step, *args, **kwargs):  # the precision travels with the step
            trained_in.add((name, step.precision))
            return loop(step, *args, **kwargs)

        return run

    monkeypatch.setattr(headroom_module, "train_one_epoch", watch("one", headroom_module.train_one_epoch))
    monkeypatch.setattr(bench, "train_stacked_epoch", watch("stacked", bench.train_stacked_epoch))
    room = headroom(32, 48, (16, 48), (2,), torch.device("cpu"), graphs=False, precisions=("bf16", "fp32"))
    assert set(room["images_per_s_by_batch"]) == {16, 48} and all(r > 0 for r in room["images_per_s_by_batch"].values())
    assert set(room["batch16_images_per_s_by_precision"]) == {"bf16", "fp32"} and room["precision"] == "bf16"
    assert room["cuda_graphs_batch16_images_per_s"] is None and room["cuda_graphs_error"] is None  # not asked for
    assert [(s["models"], s["precision"]) for s in room["stacked_batch16"]] == [(2, "bf16"), (2, "fp32")]
    assert trained_in == {("one", "bf16"), ("one", "fp32"), ("stacked", "bf16"), ("stacked", "fp32")}
    for stack in room["stacked_batch16"]:
        assert stack["images_per_s"] > 0
        expected = paper_grid_minutes(BenchSettings(), stack["images_per_s"], stack["images_per_s"])["stacked_minutes"]
        assert stack["paper_grid_minutes"] == pytest.approx(expected)


def test_the_gpu_proof_script_writes_its_table_without_snakemake(tmp_path):
    """scripts/gpu_proof.py runs on a device machine that has no Snakemake: here its GAN step, at the demo's
    sizes, on the CPU."""
    page = tmp_path / "performance.md"
    page.write_text(
        "# Performance\n\nintro\n\n<!-- gpu_proof: begin -->\nold figures\n<!-- gpu_proof: end -->\n\nafter\n"
    )
    result = _run_script(
        "gpu_proof.py",
        *("--quick", "--device", "cpu", "--steps", "gans", "paper", "--config", str(ROOT / "config" / "config.yaml")),
        *("--out", str(tmp_path), "--commit", "0123456789abcdef0123", "--doc", str(page)),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    proof = json.loads((tmp_path / "gpu_proof.json").read_text())
    assert [row["gan"] for row in proof["gans"]] == ["stargan", "cyclegan", "identity_gan"]
    assert not any(row["captured"] for row in proof["gans"])  # a CPU steps eagerly: one row each
    paper = proof["paper"]  # study 1 priced from the rows above and the stacked classifier's rate
    assert paper["parts"]["train_stargan"] == proof["gans"][0]["configured_minutes"]
    assert paper["sum_minutes"] == pytest.approx(sum(paper["parts"].values()))
    assert 0 < paper["critical_path_minutes"] <= paper["sum_minutes"]
    assert all(row["iterations_timed"] == 3 for row in proof["gans"]) and "bench" not in proof
    assert proof["provenance"]["cpu"]["model"] and proof["device"] == "cpu"
    # the code's commit as given (a tree copied to a GPU node keeps an older .git), the tree's own kept beside it
    assert proof["provenance"]["commit"] == "0123456789abcdef0123"
    assert proof["provenance"]["commit_of_this_tree_git"]
    table = (tmp_path / "gpu_proof.md").read_text()
    assert "at commit `0123456789ab`" in table.splitlines()[0]
    assert "| stargan | 32 | 16 | eager |" in table and "| identity_gan | 32 | 32 | eager |" in table  # config.yaml's
    assert "study 1 on one GPU" in table
    written = page.read_text()  # the page's own text kept, the section between the markers replaced by the table
    assert written.startswith("# Performance\n\nintro\n") and written.endswith("<!-- gpu_proof: end -->\n\nafter\n")
    assert "old figures" not in written and table.strip() in written


def test_the_compiled_path_is_timed_with_its_compile_time_apart():
    from synthfer.bench import compiled_throughput

    rng = np.random.default_rng(0)
    images, labels = (
        rng.integers(0, 256, size=(40, 32, 32), dtype=np.uint8),
        rng.integers(0, 6, size=40).astype(np.int64),
    )
    result = compiled_throughput(images, labels, 16, torch.device("cpu"), backend="aot_eager")
    assert result["compiled"] and result["batch"] == 16 and result["compile_seconds"] > 0 and result["images_per_s"] > 0


def test_the_peer_sides_train_the_same_faces_pinned_and_report_throughput(tmp_path):
    """Both StarGAN loops and our classifier path, each in its own pinned process, as `make bench-peers` runs
    them (the Keras side needs TensorFlow's environment and is checked below when it exists)."""
    from synthfer.peers import read_face_folders, run_side, write_face_folders

    faces = write_face_folders(42, 32, tmp_path)
    images, labels = read_face_folders(
        faces / "emotions", ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]
    )
    assert images.shape[1:] == (32, 32) and images.dtype == np.uint8 and set(labels) == set(range(6))
    assert sorted(p.name for p in (faces / "all").iterdir()) == sorted(
        ["neutral", *["anger", "disgust", "fear", "happiness", "sadness", "surprise"]]
    )
    ours = run_side(sys.executable, "ours_classifier", [0], 1, images_dir=faces / "emotions", batch=16, epochs=1)
    assert ours["images_per_s"] > 0 and ours["precision"] in ("bf16", "fp32")
    kwargs = {"images_dir": faces / "all", "conv_dim": 8, "repeat": 1, "batch": 4, "iterations": 5}
    original = run_side(sys.executable, "original_stargan", [0], 1, **kwargs)
    assert original["iterations_per_s"] > 0 and original["losses_finite"]  # the generator stepped too (5th iteration)
    assert run_side(sys.executable, "ours_stargan", [0], 1, **kwargs)["iterations_per_s"] > 0


def test_the_keras_peer_trains_the_papers_cnn_when_its_environment_exists(tmp_path):
    import pytest

    from synthfer.peers import run_side, write_face_folders

    peer = Path(__file__).resolve().parents[1] / ".venv-peers" / "bin" / "python"
    if not peer.exists():
        pytest.skip("the peer environment is made by `make bench-peers` (TensorFlow)")
    faces = write_face_folders(24, 32, tmp_path)
    out = run_side(
        str(peer), "keras_classifier", [0], 1, images_dir=faces / "emotions", batch=8, epochs=1, image_size=32
    )
    assert out["images_per_s"] > 0 and out["images"] == 24 and 0 < out["cpu_seconds"]


def test_the_peer_table_shows_each_keras_round_with_its_cpu_use_and_ours_against_the_best_one():
    """TensorFlow's one-thread rate settles per process in one of two modes (one idles half the time): the
    table must show every round and the ratio to the fastest, not only the median."""
    from synthfer.peers import markdown_table

    row = {"model": "classifier", "threads": 1, "load": "quiet", "batch": 16, "ours": 270.0, "peer": 94.0,
           "ratio": 270 / 94, "unit": "images/s", "precision": "bf16", "peer_rounds": [94.0, 150.0, 93.0],
           "peer_cpu_share": [0.51, 0.98, 0.5], "ratio_to_peer_best": 270 / 150}  # fmt: skip
    line = markdown_table({"rows": [row]}).splitlines()[2]
    assert "| 94 (0.51), 150 (0.98), 93 (0.50) | 1.80x |" in line and "| 2.87x |" in line
