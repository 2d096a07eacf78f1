"""The report from kept predictions: translators, the real-only baseline, other architectures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from synthfer.augment import augment_batch
from synthfer.labels import EMOTIONS
from synthfer.plots import plot_accuracy_vs_ratio, plot_per_class_metrics
from synthfer.report import aggregate, best_ratios, read_histories, read_predictions, table2, table3
from synthfer.summary import SummaryTables, summary_markdown
from synthfer.train.classifier import ClassifierConfig

CONFIG = {
    "experiment": {"seeds": [0, 1]},
    "roles": {"real_train": ["r"], "gan_train": ["g"], "cross_test": ["cross_a"]},
    "preprocess": {"image_size": 32},
}
PROVENANCE = {"commit": "abc", "versions": {"torch": "x", "snakemake": "y"}, "cuda": "none"}


def _aggregate_to(folder: Path, predictions: pd.DataFrame, target: float | None = None) -> pd.DataFrame:
    """aggregate's tables written where these tests read them (the k column read back as text, as the report
    rules do); returns the metrics."""
    tables = aggregate(predictions) if target is None else aggregate(predictions, target)
    for name, table in (("metrics", tables.metrics), ("summary", tables.summary), ("gains", tables.gains),
                        ("selection", tables.selection_gains), ("controls", tables.control_gains)):  # fmt: skip
        table.to_csv(folder / f"{name}.csv", index=False)
    return tables.metrics


def _written(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    table.to_csv(path, index=False)
    return table


def _predictions(
    accuracy: dict[tuple[str, str], float], n_faces: int = 60, seeds: tuple[int, ...] = (0, 1)
) -> pd.DataFrame:
    """Predictions per (arm, k), 2 seeds, 2 test sets, right on a given share of the same faces."""
    rng = np.random.default_rng(0)
    true = np.array(EMOTIONS * (n_faces // 6))
    rows = []
    for (translator, k), acc in accuracy.items():
        for seed in seeds:
            for test_set in ("cross_a", "in_distribution"):
                right = rng.random(n_faces) < acc
                pred = np.where(right, true, np.roll(true, 1))
                proba = np.stack([(pred == e).astype(float) * 0.9 + 0.02 for e in EMOTIONS], 1)
                table = pd.DataFrame(
                    {
                        "test_set": test_set,
                        "subject": [f"s{i}" for i in range(n_faces)],
                        "source": "real",
                        "true": true,
                        "pred": pred,
                        **{f"p_{e}": proba[:, i] for i, e in enumerate(EMOTIONS)},
                    }
                )
                rows.append(table.assign(arm=translator, k=k, seed=seed))
    return pd.concat(rows, ignore_index=True)


def _accuracy_on_cross_a(preds: pd.DataFrame):
    """accuracy(arm, k) on cross_a over all seeds, computed by hand from the predictions."""
    cross = preds[preds["test_set"] == "cross_a"]

    def right(t: str, k: str) -> float:
        run = cross[(cross["arm"] == t) & (cross["k"] == k)]
        return (run["pred"] == run["true"]).mean()

    return right


def test_report_compares_translators_and_a_baseline_architecture_with_the_same_real_only_runs(tmp_path):
    preds = _predictions({("real", "0"): 0.5, ("stargan", "1"): 0.7, ("stargan", "syn"): 0.3, ("vgg16", "0"): 0.4})
    metrics = _aggregate_to(tmp_path, preds)
    assert set(metrics["arm"]) == {"real", "stargan", "vgg16"}
    gains = pd.read_csv(tmp_path / "gains.csv", dtype={"k": str})
    stargan = gains[gains["arm"] == "stargan"].set_index("k")
    assert set(stargan.index) == {"1", "syn"} and stargan.loc["1", "gain"] > 0.1 and stargan.loc["syn", "gain"] < -0.1
    vgg = gains[gains["arm"] == "vgg16"]
    assert (
        len(vgg) == 1
        and vgg["test_set"].item() == "cross_a"
        and vgg["gain"].item() < 0
        and vgg["baseline"].item() == "real (paper CNN)"
    )
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"k": str})
    histories = pd.DataFrame(
        [
            {
                "arm": t,
                "k": k,
                "seed": seed,
                "best_epoch": 3 + seed,
                "train_accuracy": 0.8 + 0.1 * seed,
                "val_loss": 1.0,
                "precision": "fp32" if (t, seed) == ("vgg16", 1) else "bf16",
            }
            for t, k in (("real", "0"), ("stargan", "1"), ("stargan", "syn"), ("vgg16", "0"))
            for seed in (0, 1)
        ]
    )
    t2 = _written(table2(metrics, histories), tmp_path / "table2.csv")
    assert t2.set_index(["arm", "k"]).loc[("vgg16", "0"), "precision"] == "bf16, fp32"
    row = t2[(t2["arm"] == "stargan") & (t2["k"] == "1")].iloc[0]
    assert row["precision"] == "bf16"
    assert (
        row["train_accuracy_mean"] == pytest.approx(0.85)
        and row["best_epoch_mean"] == pytest.approx(3.5)
        and len(t2) == 4
    )
    assert row["acc_cross_a_mean"] == pytest.approx(
        metrics.query("arm == 'stargan' and k == '1' and test_set == 'cross_a'")["accuracy"].mean()
    )
    text = summary_markdown(
        CONFIG,
        PROVENANCE,
        SummaryTables(summary, gains=gains, table_2=pd.read_csv(tmp_path / "table2.csv", dtype={"k": str})),
    )
    assert "## Translator: stargan" in text and "## Translator: vgg16" not in text
    assert (
        "## Baseline: vgg16 on real faces only" in text
        and "best k = 1" in text
        and "## Table 2" in text
        and "| stargan | 1 | 85.0" in text
    )
    assert "the classifiers trained in bf16, fp32 (`classifier.precision: auto`" in text
    plot_accuracy_vs_ratio(summary, tmp_path / "acc.png", ["cross_a"])
    with Image.open(tmp_path / "acc.png") as img:
        assert img.size[0] > 300


def test_the_figure_bands_are_the_tables_intervals(tmp_path, monkeypatch):
    """The bands drawn are mean -+ the t-interval of metrics_summary.csv (not a bootstrap of the plotting library),
    and the cross-database panel comes first."""
    import matplotlib.axes

    accuracy = {("real", "0"): 0.5, ("stargan", "1"): 0.6, ("stargan", "2"): 0.7, ("stargan", "syn"): 0.3}
    _aggregate_to(tmp_path, _predictions(accuracy, seeds=(0, 1, 2)))
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"k": str})
    drawn, titles = [], []
    original_fill, original_title = matplotlib.axes.Axes.fill_between, matplotlib.axes.Axes.set_title
    monkeypatch.setattr(
        matplotlib.axes.Axes,
        "fill_between",
        lambda ax, x, low, high, **kw: (
            drawn.append((list(x), list(low), list(high))),
            original_fill(ax, x, low, high, **kw),
        )[1],
    )
    monkeypatch.setattr(
        matplotlib.axes.Axes,
        "set_title",
        lambda ax, t, *a, **kw: (titles.append(t), original_title(ax, t, *a, **kw))[1],
    )
    plot_accuracy_vs_ratio(summary, tmp_path / "acc.png", ["cross_a"])
    assert titles[0] == "cross_a (cross-database)" and titles[1] == "in_distribution"
    x, low, high = drawn[0]
    rows = (
        summary[(summary["test_set"] == "cross_a") & summary["k"].isin(["0", "1", "2"])]
        .assign(x=lambda d: d["k"].astype(int))
        .sort_values("x")
    )
    assert x == [0, 1, 2]
    np.testing.assert_allclose(low, rows["accuracy_mean"] - rows["accuracy_ci95"])
    np.testing.assert_allclose(high, rows["accuracy_mean"] + rows["accuracy_ci95"])


def test_table3_sets_real_only_baseline_synthetic_only_and_the_best_k_side_by_side(tmp_path):
    accuracy = {
        ("real", "0"): 0.5,
        ("stargan", "1"): 0.6,
        ("stargan", "2"): 0.8,
        ("stargan", "3"): 0.65,
        ("stargan", "syn"): 0.3,
        ("cyclegan", "1"): 0.7,
        ("cyclegan", "2"): 0.55,
        ("vgg16", "0"): 0.4,
    }
    metrics = _aggregate_to(tmp_path, _predictions(accuracy))
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"k": str})
    assert best_ratios(summary, ["cross_a"]) == {"stargan": "2", "cyclegan": "1"}
    t3 = _written(table3(summary, ["cross_a"]), tmp_path / "table3.csv").set_index("model")
    assert list(t3.index) == [
        "real only",
        "vgg16, real only",
        "cyclegan, real + k=1 (best k)",
        "stargan, synthetic only",
        "stargan, real + k=2 (best k)",
    ]
    expected = metrics.query("arm == 'stargan' and k == '2' and test_set == 'cross_a'")["accuracy"].mean()
    assert (
        t3.loc["stargan, real + k=2 (best k)", "cross_a_mean"] == pytest.approx(expected)
        and t3["cross_a_n_seeds"].eq(2).all()
    )
    assert "in_distribution_mean" not in t3.columns  # only the cross-database sets and real_test
    text = summary_markdown(
        CONFIG,
        PROVENANCE,
        SummaryTables(summary, table_3=pd.read_csv(tmp_path / "table3.csv", dtype={"k": str})),
    )
    assert "## Table 3" in text and f"| stargan, real + k=2 (best k) | {100 * expected:.1f} ±" in text
    plot_per_class_metrics(
        summary, t3.reset_index()[["model", "arm", "k"]], tmp_path / "bars.png", list(EMOTIONS), ["cross_a"]
    )
    with Image.open(tmp_path / "bars.png") as img:
        assert img.size[0] > 1000 and img.size[1] > 400  # 3 measures x 2 test sets


def test_vgg16_baseline_takes_gray_faces():
    model = ClassifierConfig(image_size=32, architecture="vgg16").build()
    assert model.features[0].in_channels == 1 and model.classifier[-1].out_features == len(EMOTIONS)
    with torch.no_grad():
        assert model.eval()(torch.rand(2, 1, 32, 32)).shape == (2, len(EMOTIONS))
    with pytest.raises(ValueError, match="architecture"):
        ClassifierConfig(architecture="resnet")


def test_augmentation_warps_each_face_its_own_way_reproducibly():
    x = torch.rand(1, 1, 16, 16).expand(8, 1, 16, 16).contiguous()  # eight copies of one face
    out = augment_batch(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert len({tuple(o.flatten().round(decimals=4).tolist()) for o in out}) == 8  # every copy changed differently
    torch.testing.assert_close(out, augment_batch(x, torch.Generator().manual_seed(0)))
    flat = torch.arange(16.0).view(1, 1, 1, 16).expand(1, 1, 16, 16)
    flips = [augment_batch(flat, torch.Generator().manual_seed(s))[0, 0, 8] for s in range(20)]
    assert any(f[0] > f[-1] for f in flips) and any(f[0] < f[-1] for f in flips)  # some are mirrored, some not


def test_a_selected_arm_is_compared_with_all_of_its_translators_faces_at_the_same_k(tmp_path):
    accuracy = {
        ("real", "0"): 0.5,
        ("stargan", "1"): 0.5,
        ("stargan-selected", "1"): 0.8,
        ("stargan-selected", "2"): 0.9,
        ("stargan", "syn"): 0.4,
        ("stargan-selected", "syn"): 0.4,
    }
    preds = _predictions(
        accuracy, seeds=(0, 1, 2, 3, 4)
    )  # 2 seeds leave a 1-df test: even 30 points would not survive Holm
    _aggregate_to(tmp_path, preds)
    chosen = pd.read_csv(tmp_path / "selection.csv", dtype={"k": str}).set_index("k")
    assert list(chosen.index) == ["1", "syn"]  # k = 2 has no unselected run to pair with; in_distribution is left out
    assert (
        set(chosen["test_set"]) == {"cross_a"}
        and set(chosen["baseline"]) == {"stargan"}
        and set(chosen["arm"]) == {"stargan-selected"}
    )
    right = _accuracy_on_cross_a(preds)
    assert chosen.loc["1", "gain"] == pytest.approx(right("stargan-selected", "1") - right("stargan", "1"))
    assert chosen.loc["1", "gain"] > 0.2 and chosen.loc["1", "p_holm"] < 0.05 and chosen.loc["1", "verdict"] == "gain"
    assert (chosen["n_tests"] == 2).all() and chosen.loc["1", "p_holm"] == pytest.approx(2 * chosen.loc["1", "p_value"])
    text = summary_markdown(
        CONFIG,
        PROVENANCE,
        SummaryTables(
            pd.read_csv(tmp_path / "summary.csv", dtype={"k": str}),
            selection_gain=pd.read_csv(tmp_path / "selection.csv", dtype={"k": str}),
        ),
    )
    section = text.split("## Translator: stargan-selected")[1]
    assert "stargan-selected against all of stargan's generated faces" in section and "| cross_a | +" in section
    assert (
        "stargan-selected helps significantly (5%, Holm) in 1 and hurts significantly in 0 of 2 (test set, k) comparisons"
        in section
    )


def test_runs_stuck_on_the_chance_plateau_are_counted_and_named(tmp_path):
    metrics = _aggregate_to(tmp_path, _predictions({("real", "0"): 0.5, ("stargan", "1"): 0.4}))
    histories = pd.DataFrame(
        [
            {"arm": "real", "k": "0", "seed": 0, "best_epoch": 9, "train_accuracy": 0.8, "val_loss": 0.9},
            {"arm": "real", "k": "0", "seed": 1, "best_epoch": 9, "train_accuracy": 0.8, "val_loss": 1.2},
            {
                "arm": "stargan",
                "k": "1",
                "seed": 0,
                "best_epoch": 1,
                "train_accuracy": 0.2,
                "val_loss": 1.7925,
            },  # ln 6 = 1.7918
            {"arm": "stargan", "k": "1", "seed": 1, "best_epoch": 8, "train_accuracy": 0.7, "val_loss": 1.0},
        ]
    )
    t2 = _written(table2(metrics, histories), tmp_path / "table2.csv").set_index(["arm", "k"])
    assert t2.loc[("real", "0"), "seeds_at_chance"] == 0 and t2.loc[("stargan", "1"), "seeds_at_chance"] == 1
    text = summary_markdown(
        CONFIG,
        PROVENANCE,
        SummaryTables(
            pd.read_csv(tmp_path / "summary.csv", dtype={"k": str}),
            table_2=pd.read_csv(tmp_path / "table2.csv", dtype={"k": str}),
        ),
    )
    assert (
        "never left the chance plateau" in text
        and "stargan k=1 (1 of 2 seeds)" in text
        and "real k=0" not in text.split("chance plateau")[1]
    )


def test_runs_ended_by_max_epochs_while_still_improving_are_counted_and_named(tmp_path):
    runs = {
        ("real", "0", 0): [1.5, 1.2, 1.0, 0.9],
        ("real", "0", 1): [1.5, 1.0, 1.1, 1.2],
        ("stargan", "1", 0): [1.5, 1.0, 1.1, 1.2],
        ("stargan", "1", 1): [1.5, 1.0, 1.1, 1.2],
    }  # real seed 0: best at its last epoch, cut off by max_epochs
    paths = []
    for (translator, k, seed), losses in runs.items():
        folder = tmp_path / "classify" / translator / f"k{k}" / f"seed{seed}"
        folder.mkdir(parents=True)
        history = pd.DataFrame(
            {"arm": translator, "k": k, "seed": seed, "epoch": range(1, 5), "train_loss": 1.0, "train_accuracy": 0.5,
             "val_loss": losses, "precision": "fp32"}
        )  # fmt: skip
        history["best"] = history["val_loss"] == history["val_loss"].min()
        history.to_csv(folder / "history.csv", index=False)
        paths.append(folder / "history.csv")
    histories = read_histories(paths)
    assert histories.set_index(["arm", "seed"])["still_improving"].to_dict() == {
        ("real", 0): True,
        ("real", 1): False,
        ("stargan", 0): False,
        ("stargan", 1): False,
    }
    metrics = _aggregate_to(tmp_path, _predictions({("real", "0"): 0.5, ("stargan", "1"): 0.6}))
    t2 = _written(table2(metrics, histories), tmp_path / "table2.csv").set_index(["arm", "k"])
    assert (
        t2.loc[("real", "0"), "seeds_still_improving"] == 1 and t2.loc[("stargan", "1"), "seeds_still_improving"] == 0
    )
    text = summary_markdown(
        CONFIG,
        PROVENANCE,
        SummaryTables(
            pd.read_csv(tmp_path / "summary.csv", dtype={"k": str}),
            table_2=pd.read_csv(tmp_path / "table2.csv", dtype={"k": str}),
        ),
    )
    named = text.split("still improving when")[1].split("\n")[0]
    assert "real k=0 (1 of 2 seeds)" in named and "stargan" not in named and "raise `classifier.max_epochs`" in named


def test_generated_arms_are_compared_with_each_control_at_the_same_k_and_the_controls_with_real_only(tmp_path):
    accuracy = {
        ("real", "0"): 0.5,
        ("stargan", "1"): 0.8,
        ("stargan", "2"): 0.8,
        ("real-steps", "1"): 0.8,
        ("real-steps", "2"): 0.8,
        ("real-augmented", "1"): 0.5,
        ("stargan-selected", "1"): 0.8,
        ("stargan-selected-balanced", "1"): 0.5,
        ("stargan", "syn"): 0.3,
    }
    preds = _predictions(accuracy, seeds=(0, 1, 2, 3, 4))
    _aggregate_to(tmp_path, preds)
    controls = pd.read_csv(tmp_path / "controls.csv", dtype={"k": str})
    pairs = set(zip(controls["arm"], controls["baseline"], controls["k"]))
    assert (
        ("stargan", "real-steps", "1") in pairs
        and ("stargan", "real-steps", "2") in pairs
        and ("stargan", "real-augmented", "1") in pairs
    )
    assert not any(k == "syn" for _, _, k in pairs) and set(controls["test_set"]) == {
        "cross_a"
    }  # controls have no synthetic-only run
    assert not set(controls["arm"]) & {"real-steps", "real-augmented", "real"}
    # one family per (arm, control): stargan vs real-steps holds k = 1 and 2
    family = controls[controls["family"] == "control: stargan vs real-steps"]
    assert len(family) == 2 and (family["n_tests"] == 2).all()
    right = _accuracy_on_cross_a(preds)
    row = controls[(controls["arm"] == "stargan") & (controls["baseline"] == "real-augmented")].iloc[0]
    assert (
        row["gain"] == pytest.approx(right("stargan", "1") - right("real-augmented", "1"))
        and row["gain"] > 0.2
        and row["verdict"] == "gain"
    )
    # the controls are judged against real only in their own ratio families, and are no translator
    gains = pd.read_csv(tmp_path / "gains.csv", dtype={"k": str})
    assert set(gains.loc[gains["arm"] == "real-steps", "family"]) == {"ratios: real-steps on cross_a"}
    selection = pd.read_csv(tmp_path / "selection.csv", dtype={"k": str})
    balanced = selection[selection["arm"] == "stargan-selected-balanced"]
    assert len(balanced) == 1 and balanced["baseline"].item() == "stargan" and balanced["gain"].item() < -0.2
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"k": str})
    text = summary_markdown(
        CONFIG,
        PROVENANCE,
        SummaryTables(summary, gains=gains, selection_gain=selection, control_gain=controls),
    )
    assert (
        "## Translator: real-steps" not in text
        and "## Control: real-steps" in text
        and "## Control: real-augmented" in text
    )
    assert "- controls (real faces only, with the budget of arm k): real-steps, real-augmented" in text
    stargan = text.split("## Translator: stargan\n")[1].split("## Translator:")[0]
    assert "### Against the control real-steps" in stargan and "### Against the control real-augmented" in stargan
    # the balanced arm is compared with its translator's faces, and says so; a paragraph never runs into a list
    assert "\n\nstargan-selected-balanced against all of stargan's generated faces at the same k" in text
    plot_accuracy_vs_ratio(summary, tmp_path / "acc.png", ["cross_a"])  # controls drawn as their own lines
    with Image.open(tmp_path / "acc.png") as img:
        assert img.size[0] > 300


def test_a_runs_arm_k_and_seed_come_from_its_file_not_its_folder(tmp_path):
    """A predictions file moved or copied elsewhere still says which run made it; one without the columns is named."""
    table = _predictions({("stargan-selected", "syn"): 0.5}, seeds=(3,))
    moved = tmp_path / "anywhere" / "predictions.csv"
    moved.parent.mkdir()
    table.to_csv(moved, index=False)
    read = read_predictions([moved])
    assert set(read["arm"]) == {"stargan-selected"} and set(read["k"]) == {"syn"} and set(read["seed"]) == {3}
    old = tmp_path / "classify" / "stargan" / "k1" / "seed0" / "predictions.csv"
    old.parent.mkdir(parents=True)
    table.drop(columns=["arm", "k", "seed"]).to_csv(old, index=False)
    with pytest.raises(ValueError, match="lacks the run columns \\['arm', 'k', 'seed'\\]"):
        read_predictions([old])
