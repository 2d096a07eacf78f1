"""Early stopping replayed from recorded validation losses (`synthfer stopping`): exact against real training,
and its table computed right from a results folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers.bar_faces import bar_faces

from synthfer.cli import main
from synthfer.stopping import Stop, replay, what_if
from synthfer.train.classifier import ClassifierConfig, train_classifier


def test_a_replayed_shorter_patience_is_the_run_that_patience_trains():
    """The claim the tool rests on: training with a shorter patience sees the same validation losses up to its
    stop, so replaying the longer run's losses gives its stop and kept epoch exactly."""
    x, y = bar_faces(160, seed=1, ground=90, bar=200, wrong_labels=0.33)  # a wobbling validation loss
    runs = {}
    for patience in (2, 8):
        cfg = ClassifierConfig(
            image_size=32, max_epochs=30, patience=patience, batch_size=16, lr=1e-3, precision="fp32"
        )
        runs[patience] = train_classifier(x[:120], y[:120], x[120:], y[120:], cfg, seed=3, device=torch.device("cpu"))[
            1
        ]
    short, long = runs[2], runs[8]
    assert len(short) < len(long)  # else the test shows nothing
    np.testing.assert_array_equal(long["val_loss"].to_numpy()[: len(short)], short["val_loss"].to_numpy())
    kept = short.loc[short["best"]].iloc[0]
    assert replay(long["val_loss"], 2, 0, 30) == Stop(len(short), int(kept["epoch"]), float(kept["val_loss"]))
    assert replay(long["val_loss"], 8, 0, 30).epoch == len(long)  # the run as made replays to itself
    assert replay(long["val_loss"], 20, 0, 30) is None  # would need epochs never trained


def test_replay_ends_at_max_epochs_and_counts_patience_after_start_from_epoch():
    falling = [1.0 - 0.05 * i for i in range(12)]
    assert replay(falling, 3, 0, 12) == Stop(12, 12, falling[-1])
    plateau = [1.79, 1.80, 1.81, 1.82, 1.2, 1.3, 1.4]
    assert replay(plateau, 2, 0, 50) == Stop(3, 1, 1.79)
    assert replay(plateau, 2, 4, 50) == Stop(7, 5, 1.2)


HISTORIES = {  # (arm, k, seed): validation losses; patience 3 from epoch 0 stops each where it ends
    ("real", "0", 0): [1.0, 0.9, 0.8, 0.85, 0.7, 0.75, 0.8, 0.9],
    ("real", "0", 1): [1.0 - 0.05 * i for i in range(12)],  # learning until max_epochs
    ("stargan", "1", 0): [1.0, 0.5, 0.6, 0.7, 0.8],
    ("stargan", "1", 1): [1.0, 0.9, 0.95, 0.96, 0.97],
}


def _results(tmp_path: Path, patience: int = 3) -> Path:
    results = tmp_path / "results"
    for (arm, k, seed), losses in HISTORIES.items():
        run = results / "classify" / arm / f"k{k}" / f"seed{seed}"
        run.mkdir(parents=True)
        pd.DataFrame(
            {
                "arm": arm,
                "k": k,
                "seed": seed,
                "epoch": range(1, len(losses) + 1),
                "val_loss": losses,
                "train_loss": 0.5,
            }
        ).to_csv(run / "history.csv", index=False)
    bench = results / "benchmarks" / "train_classifier"
    bench.mkdir(parents=True)
    for name, seconds in {"real_k0_stacked": 20.0, "stargan_k1_seed0": 6.0, "stargan_k1_seed1": 4.0}.items():
        (bench / f"{name}.tsv").write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:{seconds:02.0f}\t100.0\n")
    config = {
        "classifier": {"max_epochs": 12, "patience": patience, "start_from_epoch": 0, "per_ratio": {}},
        "preprocess": {"image_size": 32},
        "experiment": {"ratios": [0, 1]},
    }
    (results / "report").mkdir()
    (results / "report" / "provenance.json").write_text(json.dumps({"commit": "x", "config": config}))
    return results


def test_what_if_counts_epochs_seconds_and_the_cost_to_each_arm(tmp_path):
    per_setting, per_arm = what_if(_results(tmp_path), [(3, 0), (1, 0), (5, 0)])
    rows = per_setting.set_index("patience")
    assert rows.loc[3, ["replayed", "epochs_share", "seconds_saved", "kept_epoch_changed"]].tolist() == [4, 1.0, 0.0, 0]
    # patience 1: real seed 0 stops at 4 (keeps epoch 3, loss 0.8 instead of 0.7), seed 1 still runs to 12,
    # each stargan run stops at 3 and keeps epoch 2 as before; 1 s per epoch in both jobs
    assert rows.loc[1, "epochs_share"] == pytest.approx(22 / 30)
    assert rows.loc[1, "seconds_saved"] == pytest.approx(8.0)
    assert rows.loc[1, "kept_epoch_changed"] == 1
    # patience 5 would train three runs past their recorded end: only the max_epochs run replays
    assert rows.loc[5, "replayed"] == 1
    arms = per_arm[per_arm["patience"] == 1].set_index("arm")
    assert arms.loc["real", "kept_epoch"] == pytest.approx(7.5)
    assert arms.loc["real", "val_loss_increase"] == pytest.approx(0.05)
    assert arms.loc["real", "kept_epoch_as_run"] == pytest.approx(8.5)
    assert arms.loc["stargan", "val_loss_increase"] == pytest.approx(0.0)


def test_histories_made_with_other_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="do not end where the recorded settings stop them"):
        what_if(_results(tmp_path, patience=2), [(1, 0)])


def test_the_command_prints_the_tables_and_refuses_bad_input(tmp_path, capsys):
    results = _results(tmp_path)
    assert main(["stopping", str(results), "--patience", "1", "2", "--out", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    assert "| 1 | 0 | 4 of 4 | 73% | 8 | 1 |" in out
    assert "| real | 0 | 8 | 8 / +0.050 |" in out  # kept epochs 5 and 12 as run, 3 and 12 with patience 1
    assert set(pd.read_csv(tmp_path / "t.csv")["patience"]) == {1, 2}
    assert main(["stopping", str(results), "--patience", "0"]) == 2
    assert "patience must be at least 1" in capsys.readouterr().err
    assert main(["stopping", str(tmp_path / "nowhere")]) == 2
    assert "provenance.json not found" in capsys.readouterr().err
