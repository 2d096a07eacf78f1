"""The whole DAG on a tiny config, run by Snakemake in a temporary directory, and its reruns."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny_config.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]
RULES = [
    "render_demo_dataset", "prepare_faces", "split_subjects", "train_stargan", "train_identity_gan", "generate_faces",
    "train_classifier", "evaluate_classifier", "aggregate_metrics", "plot_accuracy_vs_ratio", "plot_confusion_matrices",
    "plot_samples", "evaluate_generated", "write_summary",
]


def snakemake(workdir: Path, *args: str, config: Path = TINY) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(config), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("tiny_run")
    result = snakemake(workdir, "--cores", "2", "--resources", "gpu=2")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_dry_run_of_the_default_config_lists_every_rule(tmp_path):
    result = subprocess.run([*SNAKEMAKE, "--directory", str(tmp_path), "--configfile", str(ROOT / "config.yaml"), "--dry-run", "--quiet", "rules"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for rule in RULES:
        assert rule in result.stdout, rule


def test_every_report_output_exists_and_is_sane(tiny_run):
    report = tiny_run / "results" / "report"
    config = yaml.safe_load(TINY.read_text())
    metrics = pd.read_csv(report / "metrics.csv", dtype={"k": str})
    ks = {"0", "1", "2", "syn"}
    test_sets = {"in_distribution", "real_test", *config["roles"]["cross_test"]}
    assert set(metrics["k"]) == ks and set(metrics["test_set"]) == test_sets
    assert len(metrics) == len(ks) * len(config["experiment"]["seeds"]) * len(test_sets)
    for column in ("accuracy", "macro_f1", "precision_anger", "recall_surprise", "f1_fear"):
        assert metrics[column].between(0, 1).all(), column
    summary = pd.read_csv(report / "metrics_summary.csv", dtype={"k": str})
    assert {"accuracy_mean", "accuracy_ci95", "accuracy_sd"} <= set(summary.columns)
    for png in [report / "accuracy_vs_ratio.png", report / "samples.png", *sorted((report / "confusion").glob("*.png"))]:
        with Image.open(png) as img:
            assert img.size[0] > 100 and img.size[1] > 100, png
    assert len(list((report / "confusion").glob("*.png"))) == len(ks) * len(test_sets)
    fidelity = pd.read_csv(report / "generated_fidelity.csv")
    assert fidelity["fidelity"].between(0, 1).all() and set(fidelity["emotion"]) == {"anger", "disgust", "fear", "happiness", "sadness", "surprise"}
    text = (report / "summary.md").read_text()
    assert "Expression fidelity" in text and "real_test" in text and "image_size: 32" in text
    assert "commit" in (report / "provenance.json").read_text()


def test_predictions_are_kept_per_face(tiny_run):
    preds = pd.read_csv(tiny_run / "results/classify/k1/seed0/predictions.csv")
    probs = preds.filter(like="p_").to_numpy()
    assert np.allclose(probs.sum(1), 1, atol=1e-4)
    assert (preds["pred"] == preds.filter(like="p_").idxmax(axis=1).str.removeprefix("p_")).all()


def test_generated_identities_never_share_splits(tiny_run):
    real = pd.read_csv(tiny_run / "results/real/faces.csv")
    units = pd.concat([pd.read_csv(p) for p in sorted((tiny_run / "results/generated").glob("unit*/faces.csv"))])
    both = pd.concat([real, units])
    assert (both.groupby("subject")["split"].nunique() == 1).all()
    sizes = real.groupby("split")["subject"].nunique()
    per_unit = units.drop_duplicates("subject").groupby(["unit", "split"]).size().unstack()
    assert (per_unit[sizes.index] == sizes).all().all()  # each unit matches the real identity counts


def test_changing_one_ratio_reruns_only_that_branch(tiny_run, tmp_path):
    changed = yaml.safe_load(TINY.read_text())
    changed["classifier"]["per_ratio"] = {"1": {"lr": 0.002}}
    config = tmp_path / "changed.yaml"
    config.write_text(yaml.safe_dump(changed))
    result = snakemake(tiny_run, "--dry-run", "--quiet", "rules", config=config)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    table = {row[0]: row[1] for row in rows if len(row) == 2 and row[0] in RULES and row[1].isdigit()}
    assert table.get("train_classifier") == "2"  # k=1, both seeds, nothing else
    assert "train_stargan" not in table and "generate_faces" not in table


def test_a_bad_config_fails_before_any_job(tmp_path):
    bad = yaml.safe_load(TINY.read_text())
    bad["experiment"]["ratio"] = [1]
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(bad))
    result = snakemake(tmp_path, "--dry-run", config=config)
    assert result.returncode != 0
    output = result.stdout + result.stderr  # Snakemake's logger may use either stream
    assert "unknown key experiment.ratio" in output and "allowed keys: ratios" in output


def test_a_missing_dataset_is_named_with_where_to_put_it(tmp_path):
    config = yaml.safe_load((ROOT / "configs" / "paper.yaml").read_text())
    for name, ds in config["datasets"].items():
        ds["path"] = str(tmp_path / "nowhere" / name)
    path = tmp_path / "paper.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--dry-run", config=path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "not found at" in output and "change datasets." in output and "request it from its authors" in output


def test_a_dataset_from_a_local_archive_is_unpacked_and_prepared(tmp_path):
    """A rendered demo database zipped up, named by `archive:`, goes fetch_dataset -> prepare_faces."""
    from synthfer.data.demo import DemoDatabase, write_demo_database

    write_demo_database(DemoDatabase(seed=9, subjects=2, image_size=64), tmp_path / "packed" / "mydb")
    archive = shutil.make_archive(str(tmp_path / "mydb"), "zip", tmp_path / "packed")
    config = yaml.safe_load(TINY.read_text())
    config["datasets"]["cross_b"] = {"loader": "demo", "archive": archive}
    path = tmp_path / "archive.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    result = snakemake(workdir, "--cores", "2", "results/faces/cross_b/faces.csv", config=path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    faces = pd.read_csv(workdir / "results/faces/cross_b/faces.csv")
    assert len(faces) == 2 * 7 and set(faces["source"]) == {"cross_b"}


def test_fer2013_csv_goes_through_prepare_and_the_ambiguity_filter(tmp_path):
    """FER2013 in its released csv layout: prepared without a detector, filtered, counts reported per class."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_fer2013 import write_fer2013_csv

    write_fer2013_csv(tmp_path / "fer" / "fer2013.csv", per_class=6)
    config = yaml.safe_load(TINY.read_text())
    config["datasets"]["fer"] = {
        "loader": "fer2013", "path": str(tmp_path / "fer" / "fer2013.csv"),
        "filter_ambiguous": {"keep": 0.5, "folds": 2, "max_epochs": 2, "patience": 1, "batch_size": 16},
    }
    config["roles"]["cross_test"] = [*config["roles"]["cross_test"], "fer"]
    path = tmp_path / "fer.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    dry = snakemake(workdir, "--dry-run", "--quiet", "rules", config=path)
    assert "filter_ambiguous_faces" in dry.stdout, dry.stdout + dry.stderr
    result = snakemake(workdir, "--cores", "2", "results/faces/fer/unambiguous/counts.csv", "--resources", "gpu=1", config=path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    counts = pd.read_csv(workdir / "results/faces/fer/unambiguous/counts.csv").set_index("emotion")
    assert counts.loc["total", "before"] == 42 and (counts.drop("total")["after"] == 3).all()
    kept = pd.read_csv(workdir / "results/faces/fer/unambiguous/faces.csv")
    scored = pd.read_csv(workdir / "results/faces/fer/unambiguous/confidence.csv")
    assert len(kept) == 21 and set(kept["subject"]) == set(scored.loc[scored["kept"], "subject"])
