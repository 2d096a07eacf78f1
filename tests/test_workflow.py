"""The whole DAG on a tiny config, run by Snakemake in a temporary directory, and its reruns."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny_config.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile")]
RULES = [
    "render_demo_dataset",
    "prepare_faces",
    "check_design",
    "split_subjects",
    "restrict_gan_faces",
    "train_stargan",
    "train_cyclegan",
    "train_identity_gan",
    "generate_faces",
    "assign_external_faces",
    "select_generated",
    "balance_selected",
    "cross_validate_minority",
    "summarize_minority",
    "train_classifier",
    "train_classifiers_stacked",
    "evaluate_classifier",
    "evaluate_classifiers_stacked",
    "aggregate_metrics",
    "plot_accuracy_vs_ratio",
    "plot_per_class_metrics",
    "plot_confusion_matrices",
    "plot_samples",
    "evaluate_generated",
    "check_memorisation",
    "write_summary",
]


def snakemake(
    workdir: Path, *args: str, config: Path = TINY, snakefile: Path = ROOT / "workflow" / "Snakefile"
) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(snakefile),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
        *args,
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=1500
    )  # a safety net: two test workers share the cores


def copy_of_the_workflow(dest: Path) -> Path:
    """The workflow and its library in a folder of their own, so that a test may edit the code."""
    for part in ("workflow", "src", "config", "profiles"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, dest / part)
    return dest / "workflow" / "Snakefile"


@pytest.fixture(scope="module")
def tiny_copy(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny study run by a private copy of the workflow: (snakefile, workdir)."""
    snakefile = copy_of_the_workflow(tmp_path_factory.mktemp("code"))
    workdir = tmp_path_factory.mktemp("tiny_copy")
    result = snakemake(workdir, "--cores", "2", "--resources", "gpu=2", snakefile=snakefile)
    assert result.returncode == 0, result.stderr[-5000:]
    (workdir / "terminal.txt").write_text(result.stdout + result.stderr)  # what the user saw
    return snakefile, workdir


def planned_jobs(snakefile: Path, workdir: Path, config: Path = TINY) -> dict[str, int]:
    """What a dry run would run now: {rule: number of jobs}."""
    result = snakemake(workdir, "--dry-run", "--quiet", "rules", config=config, snakefile=snakefile)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[0] in RULES and row[1].isdigit()}


@pytest.fixture(scope="module")
def tiny_run(tiny_copy) -> Path:
    return tiny_copy[1]


REPORT_RULES = {
    "aggregate_metrics": 1,
    "plot_accuracy_vs_ratio": 1,
    "plot_per_class_metrics": 1,
    "plot_confusion_matrices": 1,
    "write_summary": 1,
}


def test_dry_run_of_the_default_config_lists_every_rule(tmp_path):
    result = subprocess.run(
        [
            *SNAKEMAKE,
            "--directory",
            str(tmp_path),
            "--configfile",
            str(ROOT / "config" / "config.yaml"),
            "--dry-run",
            "--quiet",
            "rules",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # the demo trains and evaluates all seeds of a run in one job, no dataset is in two roles, balanced selection
    # is on in paper.yaml only, and no external generator's faces come with it
    skipped = {
        "train_classifier",
        "evaluate_classifier",
        "restrict_gan_faces",
        "balance_selected",
        "assign_external_faces",
    }
    for rule in set(RULES) - skipped:
        assert rule in result.stdout, rule


def test_jobs_on_the_critical_path_start_first_when_cores_are_short(tmp_path):
    """The GANs and the real-only classifiers gate the rest; then the classifier jobs with the longest epochs."""
    result = subprocess.run(
        [
            *SNAKEMAKE,
            *("--workflow-profile", "none", "--directory", str(tmp_path)),
            *("--configfile", str(ROOT / "config" / "config.yaml"), "--dry-run"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    priority: dict[str, int] = {}
    for job in re.split(r"\n(?=(?:local)?rule \w+:)", result.stdout):
        head = re.match(r"(?:local)?rule (\w+):", job)
        if head:
            wildcards = re.search(r"wildcards: (.*)", job)
            value = re.search(r"priority: (\d+)", job)
            name = head[1] + (f" {wildcards[1]}" if wildcards else "")
            priority[name] = int(value[1]) if value else 0
    assert priority["train_stargan gan_run=0"] == priority["train_identity_gan gan_run=2"] == 100
    assert priority["train_cyclegan variant=cyclegan, gan_run=0, emotion=disgust"] == 100
    assert priority["train_classifiers_stacked arm=real, k=0"] == 90
    assert priority["generate_faces translator=stargan, gan_run=1, unit=0"] == 80
    k3, k1, syn = (priority[f"train_classifiers_stacked arm=stargan, k={k}"] for k in ("3", "1", "syn"))
    assert 80 > k3 > k1 > syn > 0 and priority["train_classifiers_stacked arm=real-steps, k=3"] == k3
    assert priority["cross_validate_minority mtranslator=none, n=0"] == 0


def test_a_config_file_given_on_the_command_line_is_not_merged_into_the_demo(tmp_path):
    """`--configfile config/paper.yaml` from the project folder must not inherit the demo's datasets, selection
    or study 2 (Snakemake would otherwise deep-merge it into the Snakefile's config.yaml)."""
    demo = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert "selection" in demo and "selection" not in yaml.safe_load(TINY.read_text())
    (tmp_path / "config").mkdir()
    shutil.copy2(ROOT / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    alone = subprocess.run(
        [*SNAKEMAKE, "--directory", str(tmp_path), "--dry-run", "--quiet", "rules"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert alone.returncode == 0 and "select_generated" in alone.stdout, (
        alone.stdout + alone.stderr
    )  # the demo by itself
    given = snakemake(tmp_path, "--dry-run", "--quiet", "rules", config=TINY)
    assert given.returncode == 0, given.stdout + given.stderr
    assert (
        "select_generated" not in given.stdout and "train_cyclegan" in given.stdout
    )  # the tiny config's own translators, no selection


TRANSLATORS = ["ecyclegan", "stargan"]


def test_every_report_output_exists_and_is_sane(tiny_run):
    report = tiny_run / "results" / "report"
    config = yaml.safe_load(TINY.read_text())
    metrics = pd.read_csv(report / "metrics.csv", dtype={"k": str})
    ks = {"0", "1", "syn"}
    test_sets = {"in_distribution", "real_test", *config["roles"]["cross_test"]}
    n_seeds = len(config["experiment"]["seeds"])
    assert set(metrics["k"]) == ks and set(metrics["test_set"]) == test_sets
    assert set(metrics["arm"]) == {"real", *TRANSLATORS} and set(metrics.loc[metrics["arm"] == "real", "k"]) == {"0"}
    runs = 1 + len(TRANSLATORS) * (len(ks) - 1)  # real only once, each translator's k = 1, syn
    assert len(metrics) == runs * n_seeds * len(test_sets)
    for column in ("accuracy", "macro_f1", "precision_anger", "recall_surprise", "f1_fear", "macro_auc_ovr"):
        assert metrics[column].between(0, 1).all(), column
    summary = pd.read_csv(report / "metrics_summary.csv", dtype={"k": str})
    assert {"accuracy_mean", "accuracy_ci95", "accuracy_sd", "arm"} <= set(summary.columns)
    samples = [report / f"samples_{t}.png" for t in TRANSLATORS]
    for png in [
        report / "accuracy_vs_ratio.png",
        report / "per_class_metrics.png",
        *samples,
        *sorted((report / "confusion").glob("*.png")),
    ]:
        with Image.open(png) as img:
            assert img.size[0] > 100 and img.size[1] > 100, png
    assert len(list((report / "confusion").glob("*.png"))) == runs * len(test_sets)
    fidelity = pd.read_csv(report / "generated_fidelity.csv")
    assert fidelity["fidelity"].between(0, 1).all() and set(fidelity["emotion"]) == {
        "anger",
        "disgust",
        "fear",
        "happiness",
        "sadness",
        "surprise",
    }
    assert set(fidelity["translator"]) == set(TRANSLATORS)
    quality = pd.read_csv(report / "quality.csv")
    assert {"identity_ratio", "frechet_distance", "diversity_generated", "diversity_real"} <= set(quality["metric"])
    assert {"kid", "kid_sd", "precision", "recall", "density", "coverage"} <= set(quality["metric"])
    assert (
        len(set(quality["model"]) - {"eigenfaces", "pixels"}) == n_seeds  # each real-only model's features
        and {"eigenfaces", "pixels"} <= set(quality["model"])  # the second space, and memorisation in pixels
        and np.isfinite(quality["value"]).all()
        and set(quality["translator"]) == set(TRANSLATORS)
    )
    gains = pd.read_csv(report / "paired_gains.csv", dtype={"k": str})
    assert (
        set(gains["test_set"]) == test_sets - {"in_distribution"}
        and set(gains["k"]) == ks - {"0"}
        and set(gains["arm"]) == set(TRANSLATORS)
    )
    assert len(gains) == len(TRANSLATORS) * (len(ks) - 1) * (len(test_sets) - 1)
    tested = gains.dropna(
        subset=["p_value"]
    )  # the tiny classifiers may sit on one class: a gain with no spread gets no test
    assert (
        len(tested)
        and (tested["ci_low"] <= tested["gain"]).all()
        and (tested["gain"] <= tested["ci_high"]).all()
        and tested["p_value"].between(0, 1).all()
    )
    assert (
        gains["verdict"].isin(["gain", "loss", "no difference of the target size", "inconclusive"]).all()
        and (gains.loc[gains["p_value"].isna(), "verdict"] == "inconclusive").all()
    )
    text = (report / "summary.md").read_text()
    assert (
        "Expression fidelity" in text
        and "real_test" in text
        and "Gain over real only, paired" in text
        and "image_size: 32" in text
    )
    assert all(f"## Translator: {t}" in text for t in TRANSLATORS) and "domain feature space" in text
    assert "commit" in (report / "provenance.json").read_text()
    assert "## Table 2" in text and len(pd.read_csv(report / "table2.csv")) == runs
    t3 = pd.read_csv(report / "table3.csv", dtype={"k": str})
    assert (
        len(t3) == 1 + 2 * len(TRANSLATORS)
        and {f"{t}_mean" for t in config["roles"]["cross_test"]} <= set(t3.columns)
        and "## Table 3" in text
    )


def test_the_html_report_states_the_answer_and_captions_every_result(tiny_copy, tmp_path):
    snakefile, workdir = tiny_copy
    answer = (workdir / "results/report/answer.rst").read_text()
    assert "best k = " in answer and "Holm-adjusted p" in answer and "minimal detectable effect" in answer
    summary_html = (workdir / "results/report/summary.html").read_text()
    assert "<table>" in summary_html and "<h2>Translator: stargan</h2>" in summary_html
    assert "<table" in (workdir / "results/report/paired_gains.html").read_text()
    out = tmp_path / "report.html"
    result = snakemake(workdir, "--report", str(out), snakefile=snakefile)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    html = out.read_text()
    assert (
        "How far does GAN-generated data improve facial expression recognition?" in html and "best k = " in html
    )  # the description, with the answer
    for caption in (
        "Accuracy against k",
        "Confusion matrix of stargan at k = 1 on cross_a",
        "Generated faces of ecyclegan",
        "The whole summary",
    ):
        assert caption in html, caption


def test_study_2_cross_validates_with_and_without_translated_minority_faces(tiny_run):
    folds = pd.read_csv(tiny_run / "results/minority/ecyclegan/n2/folds.csv")
    base = pd.read_csv(tiny_run / "results/minority/none/n0/folds.csv")
    assert (
        len(folds) == len(base) == 2 and (folds["n_train"] == base["n_train"] + 2).all()
    )  # 1 x 2 folds; 2 faces added
    assert (
        (folds["n_test"] == base["n_test"]).all()
        and folds["n_test"].sum() == 8 * 6
        and folds["macro_auc_ovr"].between(0, 1).all()
    )
    assert (
        "folds_at_chance" in pd.read_csv(tiny_run / "results/report/minority.csv").columns
        and "best_val_loss" in folds.columns
    )
    gains = pd.read_csv(tiny_run / "results/report/minority_gains.csv")
    assert set(gains["metric"]) >= {"macro_auc_ovr", "precision_disgust"} and set(gains["n"]) == {2}
    assert "## Study 2: disgust faces translated from neutral" in (tiny_run / "results/report/summary.md").read_text()


def test_a_finished_runs_early_stopping_replays_from_what_the_workflow_wrote(tiny_run, capsys):
    """`synthfer stopping` reads the histories, provenance and benchmarks a real run writes, and replaying the
    run's own settings reproduces every run's stop (else it refuses)."""
    from synthfer.cli import main
    from synthfer.stopping import what_if

    per_setting, per_arm = what_if(tiny_run / "results", [(2, 0), (1, 0)])
    runs = len(list((tiny_run / "results" / "classify").glob("*/k*/seed*/history.csv")))
    as_run = per_setting.set_index("patience").loc[2]
    assert as_run["runs"] == as_run["replayed"] == runs > 0
    assert as_run["epochs_share"] == 1 and as_run["kept_epoch_changed"] == 0 and as_run["seconds_saved"] == 0
    assert (per_arm.loc[per_arm["patience"] == 1, "val_loss_increase"] >= 0).all()
    assert main(["stopping", str(tiny_run / "results"), "--patience", "1"]) == 0
    assert f"| 1 | 0 | {runs} of {runs} |" in capsys.readouterr().out


def test_every_translator_translates_the_same_identities(tiny_run):
    units = {t: pd.read_csv(tiny_run / f"results/generated/{t}/gan_run0/unit0/faces.csv") for t in TRANSLATORS}
    assert units["stargan"][["subject", "emotion", "split"]].equals(units["ecyclegan"][["subject", "emotion", "split"]])
    images = {t: np.load(tiny_run / f"results/generated/{t}/gan_run0/unit0/faces.npz")["images"] for t in TRANSLATORS}
    neutral = (units["stargan"]["emotion"] == "neutral").to_numpy()
    assert np.array_equal(images["stargan"][neutral], images["ecyclegan"][neutral])
    assert not np.array_equal(images["stargan"][~neutral], images["ecyclegan"][~neutral])
    for emotion in ("anger", "disgust", "fear", "happiness", "sadness", "surprise"):  # one ECycleGAN per target emotion
        assert (tiny_run / f"results/gan/ecyclegan/gan_run0/{emotion}/generator.pt").exists()


def test_the_terminal_shows_progress_and_the_logs_keep_the_detail(tiny_run):
    """Job output (per-epoch lines, library notices, warnings) stays in each job's log; the terminal shows
    Snakemake's progress, a few lines per job."""
    terminal = (tiny_run / "terminal.txt").read_text()
    jobs = sum(1 for _ in (tiny_run / "results/logs").rglob("*.log"))
    assert not re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING)", terminal, flags=re.M), (
        "a job's log line reached the terminal"
    )
    assert "Shell command" not in terminal and "XNNPACK" not in terminal
    assert len(terminal.splitlines()) <= 6 * jobs + 40, len(terminal.splitlines())  # Snakemake's 5 lines per job
    stargan_log = (tiny_run / "results/logs/train_stargan/gan_run0.log").read_text()
    assert "threads=" in stargan_log and "iteration" in stargan_log  # the detail is in the log
    classifier_log = (tiny_run / "results/logs/train_classifier/real_k0_seed0.log").read_text()
    assert "epoch" in classifier_log


def test_predictions_are_kept_per_face(tiny_run):
    preds = pd.read_csv(tiny_run / "results/classify/stargan/k1/seed0/predictions.csv", dtype={"k": str})
    assert list(preds.columns[:3]) == ["arm", "k", "seed"]  # the run, in the file itself
    assert set(zip(preds["arm"], preds["k"], preds["seed"], strict=True)) == {("stargan", "1", 0)}
    history = pd.read_csv(tiny_run / "results/classify/real/k0/seed1/history.csv", dtype={"k": str})
    assert set(zip(history["arm"], history["k"], history["seed"], strict=True)) == {("real", "0", 1)}
    probs = preds.filter(like="p_").to_numpy()
    assert np.allclose(probs.sum(1), 1, atol=1e-4)
    assert (preds["pred"] == preds.filter(like="p_").idxmax(axis=1).str.removeprefix("p_")).all()
    # every real face is traceable to its image file (and frame); generated ones to their identity
    real = preds[preds["source"] != "generated"]
    assert set(real["test_set"]) >= {"real_test", "cross_a"} and real["path"].notna().all()
    for path in real["path"].unique():
        assert (tiny_run / path).exists() or Path(path).exists(), path
    assert preds.loc[preds["source"] == "generated", "path"].isna().all()  # written empty
    assert (preds["frame"] >= 0).all()


def test_generated_identities_never_share_splits(tiny_run):
    real = pd.read_csv(tiny_run / "results/real/faces.csv")
    units = pd.concat(
        [pd.read_csv(p) for p in sorted((tiny_run / "results/generated/stargan").glob("gan_run*/unit*/faces.csv"))]
    )
    both = pd.concat([real, units])
    assert (both.groupby("subject")["split"].nunique() == 1).all()
    sizes = real.groupby("split")["subject"].nunique()
    per_unit = units.drop_duplicates("subject").groupby(["unit", "split"]).size().unstack()
    assert (per_unit[sizes.index] == sizes).all().all()  # each unit matches the real identity counts


def _variant(tmp_path: Path, change) -> Path:
    config = yaml.safe_load(TINY.read_text())
    change(config)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_nothing_to_do_after_a_complete_run(tiny_copy):
    assert planned_jobs(*tiny_copy) == {}


def test_a_moved_project_plans_nothing(tiny_copy, tmp_path):
    """A finished project copied elsewhere as `cp -a` copies (modification times kept), its code and its results
    side by side as before, plans nothing: Snakemake's records name each job's code inputs relative to the
    working directory, not by absolute paths that the move changed."""
    snakefile, workdir = tiny_copy
    code = snakefile.parents[1]
    assert code.parent == workdir.parent  # both in one folder: the copy keeps where each is from the other
    moved = tmp_path / "elsewhere"
    for folder in (code, workdir):
        shutil.copytree(folder, moved / folder.name, symlinks=True)  # copy2: mtimes kept
    assert planned_jobs(moved / code.name / "workflow" / "Snakefile", moved / workdir.name) == {}


def test_changing_one_ratio_reruns_only_that_branch(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c["classifier"].update(per_ratio={"1": {"lr": 0.002}}))
    # k=1 for both seeds and both translators, then the aggregation and the report; no GAN, no other ratio
    assert planned_jobs(*tiny_copy, config) == {"train_classifier": 4, "evaluate_classifier": 4, **REPORT_RULES}


def test_adding_a_ratio_adds_only_its_jobs(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c["experiment"].update(ratios=[0, 1, 2]))
    assert planned_jobs(*tiny_copy, config) == {
        "generate_faces": 2,
        "train_classifier": 4,
        "evaluate_classifier": 4,
        "evaluate_generated": 2,
        "check_memorisation": 2,
        **REPORT_RULES,
    }


def test_removing_a_ratio_reruns_only_the_aggregation(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c["experiment"].update(ratios=[0]))  # syn still uses the one generated unit
    assert planned_jobs(*tiny_copy, config) == REPORT_RULES


def test_changing_the_translator_reruns_it_and_everything_downstream_only(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c["stargan"].update(lambda_cls=2.0))
    planned = planned_jobs(*tiny_copy, config)
    n_units, n_seeds = 1, 2
    assert planned == {  # StarGAN's branch only: not ECycleGAN's, not real only, not the identity GAN
        "train_stargan": 1,
        "generate_faces": n_units,
        "train_classifier": 2 * n_seeds,
        "evaluate_classifier": 2 * n_seeds,  # k = 1, syn; k = 0 uses no generated face
        "plot_samples": 1,
        "evaluate_generated": 1,
        "check_memorisation": 1,
        **REPORT_RULES,
    }


def test_changing_one_cyclegan_setting_reruns_its_six_generators_and_their_branch_only(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c["ecyclegan"].update(lambda_cyc=5.0))
    n_units, n_seeds = 1, 2
    assert planned_jobs(*tiny_copy, config) == {
        "train_cyclegan": 6,
        "generate_faces": n_units,
        "train_classifier": 2 * n_seeds,
        "evaluate_classifier": 2 * n_seeds,
        "plot_samples": 1,
        "evaluate_generated": 1,
        "check_memorisation": 1,
        "cross_validate_minority": 1,
        "summarize_minority": 1,
        **REPORT_RULES,
    }  # study 2's ecyclegan run (n = 4) uses the changed disgust generator; its no-added-faces baseline stays


def test_stacked_seeds_train_each_ratio_in_one_job(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c["experiment"].update(stack_seeds=True))
    runs = 1 + 2 * 2
    # one job per run (real k = 0; k = 1, syn per translator) trains every seed's model, one evaluates them all
    assert planned_jobs(*tiny_copy, config) == {
        "train_classifiers_stacked": runs,
        "evaluate_classifiers_stacked": runs,
        "evaluate_generated": 2,
        **REPORT_RULES,
    }


def test_a_baseline_architecture_adds_only_its_real_only_runs(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c["experiment"].update(baselines=["vgg16"]))
    assert planned_jobs(*tiny_copy, config) == {
        "train_classifier": 2,
        "evaluate_classifier": 2,
        **REPORT_RULES,
    }  # vgg16, k = 0, both seeds


def test_selection_adds_a_selected_arm_per_translator(tiny_copy, tmp_path):
    config = _variant(tmp_path, lambda c: c.update(selection={"min_confidence": 0.0, "top_share": 0.5}))
    n_units, n_seeds, n_translators = 1, 2, 2
    runs = n_translators * 2  # k = 1, syn of stargan-selected and ecyclegan-selected; nothing else retrains
    assert planned_jobs(*tiny_copy, config) == {
        "select_generated": n_translators * n_units,
        "train_classifier": runs * n_seeds,
        "evaluate_classifier": runs * n_seeds,
        **REPORT_RULES,
    }
    snakefile, workdir = tiny_copy
    target = "results/classify/stargan-selected/k1/seed0/predictions.csv"
    result = snakemake(workdir, "--cores", "2", target, "--resources", "gpu=2", config=config, snakefile=snakefile)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    counts = pd.read_csv(workdir / "results/selected/stargan/gan_run0/unit0/counts.csv").set_index("emotion")
    assert (counts["after"] == counts["before"] // 2).all()  # the most confident half of each emotion
    kept = pd.read_csv(workdir / "results/selected/stargan/gan_run0/unit0/faces.csv")
    assert (kept["emotion"] == "neutral").sum() == (
        pd.read_csv(workdir / "results/generated/stargan/gan_run0/unit0/faces.csv")["emotion"] == "neutral"
    ).sum()
    assert len(pd.read_csv(workdir / target)) > 0


def test_a_rerun_of_the_design_check_alone_still_runs_every_missing_output(tiny_copy, tmp_path):
    """Snakemake (9.27) leaves the jobs that lead to a missing target out of a run in which the producer of one
    of their ancient() inputs reruns: the check is a target of its own so that they are not."""
    snakefile, workdir = tiny_copy
    config = _variant(tmp_path, lambda c: c["experiment"].update(allow_missing_emotions=True))  # the check's alone
    metrics = workdir / "results/report/metrics.csv"  # a target the run must make again
    metrics.rename(metrics.with_suffix(".kept"))
    try:
        assert planned_jobs(snakefile, workdir, config) == {
            "check_design": 1,
            "aggregate_metrics": 1,
            "plot_accuracy_vs_ratio": 1,
            "plot_per_class_metrics": 1,
            "write_summary": 1,
        }  # and no GAN, no classifier
    finally:
        metrics.with_suffix(".kept").rename(metrics)


def test_the_controls_add_only_their_own_runs_and_train_on_what_they_claim(tiny_copy, tmp_path):
    controls = {"step_matched": True, "augmented": True, "balanced_selection": True, "oversampled": True}
    selection = {"min_confidence": 0.1, "top_share": 0.5}  # not the selection test's: nothing of it is reused
    config = _variant(tmp_path, lambda c: c.update(selection=selection, controls=controls))
    n_units, n_seeds, n_translators = 1, 2, 2
    planned = planned_jobs(*tiny_copy, config)
    selected_runs = 2 * n_translators * 2  # selected and balanced arms of both translators at k = 1 and syn
    control_runs = 2 * 1  # real-steps and real-augmented at k = 1 (no synthetic-only run: they are real faces)
    assert planned == {
        "select_generated": n_translators * n_units,
        "balance_selected": n_translators * n_units,
        "train_classifier": (selected_runs + control_runs) * n_seeds,
        "evaluate_classifier": (selected_runs + control_runs) * n_seeds,
        "cross_validate_minority": 1,
        "summarize_minority": 1,
        **REPORT_RULES,
    }  # study 2: real-oversampled at n = 2
    snakefile, workdir = tiny_copy
    # one control run and one balanced unit (what each trains on is checked here; study 2's control in test_minority.py)
    targets = [
        "results/classify/real-augmented/k1/seed0/history.csv",
        "results/balanced/stargan/gan_run0/unit0/counts.csv",
    ]
    result = snakemake(workdir, "--cores", "2", *targets, "--resources", "gpu=2", config=config, snakefile=snakefile)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    log = (workdir / "results/logs/train_classifier/real-augmented_k1_seed0.log").read_text()
    real_only = (workdir / "results/logs/train_classifier/real_k0_seed0.log").read_text()
    mixed = (workdir / "results/logs/train_classifier/stargan_k1_seed0.log").read_text()
    count = lambda text: int(re.search(r"(\d+) train faces \((\d+) subjects\)", text).group(1))  # noqa: E731
    subjects = lambda text: int(re.search(r"(\d+) train faces \((\d+) subjects\)", text).group(2))  # noqa: E731
    assert count(log) == count(mixed) > count(real_only) and subjects(log) == subjects(
        real_only
    )  # k = 1's budget, real subjects only
    counts = pd.read_csv(workdir / "results/balanced/stargan/gan_run0/unit0/counts.csv")
    unselected = pd.read_csv(workdir / "results/generated/stargan/gan_run0/unit0/faces.csv")
    assert (counts["balanced"] == np.where(counts["selected"] > 0, counts["unselected"], 0)).all()
    assert counts["unselected"].sum() == (unselected["emotion"] != "neutral").sum()


@pytest.mark.parametrize(
    "module, expected",
    [
        ("report.py", REPORT_RULES),  # not plot_samples: its step never imports report.py
        ("summary.md.j2", {"write_summary": 1}),  # a template: the words of summary.md, nothing else
        (
            "train/classifier.py",
            {
                "train_classifier": 10,
                "evaluate_classifier": 10,
                "evaluate_generated": 2,
                "cross_validate_minority": 2,
                "summarize_minority": 1,
                **REPORT_RULES,
            },
        ),
        (
            "train/cyclegan.py",
            {
                "train_cyclegan": 6,
                "generate_faces": 1,
                "train_classifier": 4,
                "evaluate_classifier": 4,
                "evaluate_generated": 1,
                "plot_samples": 1,
                "check_memorisation": 1,
                "cross_validate_minority": 1,
                "summarize_minority": 1,
                **REPORT_RULES,
            },
        ),
        (
            "models/stylegan.py",
            {
                "train_identity_gan": 1,
                "generate_faces": 2,
                "train_classifier": 8,
                "evaluate_classifier": 8,
                "evaluate_generated": 2,
                "plot_samples": 2,
                "check_memorisation": 2,
                **REPORT_RULES,
            },
        ),  # the identity source: every generated face, not real only, not the translators
    ],
)
def test_editing_library_code_reruns_only_the_rules_that_run_it(tiny_copy, module, expected):
    snakefile, workdir = tiny_copy
    source = snakefile.parents[1] / "src" / "synthfer" / module
    original, stat = source.read_bytes(), source.stat()
    os.utime(source, (stat.st_atime, time.time() + 60))
    assert planned_jobs(snakefile, workdir) == {}  # a touch alone changes nothing: Snakemake compares contents
    source.write_bytes(original + b"\n# an edit\n")
    try:
        assert planned_jobs(snakefile, workdir) == expected
    finally:
        source.write_bytes(original)
        os.utime(source, (stat.st_atime, stat.st_mtime))


def test_a_bad_config_fails_before_any_job(tmp_path):
    bad = yaml.safe_load(TINY.read_text())
    bad["experiment"]["ratio"] = [1]
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(bad))
    result = snakemake(tmp_path, "--dry-run", config=config)
    assert result.returncode != 0
    output = result.stdout + result.stderr  # Snakemake's logger may use either stream
    assert "unknown key experiment.ratio" in output and "allowed keys: ratios" in output


GAN_RULES = {"train_stargan", "train_cyclegan", "train_identity_gan"}


def test_a_real_only_study_trains_no_gan_and_writes_its_report(tmp_path):
    def real_only(c):
        c["experiment"].update(ratios=[0], synthetic_only=False)
        del c["minority"]

    config = _variant(tmp_path, real_only)
    workdir = tmp_path / "run"
    planned = planned_jobs(ROOT / "workflow" / "Snakefile", workdir, config)
    assert not GAN_RULES & set(planned) and not {"generate_faces", "evaluate_generated", "plot_samples"} & set(
        planned
    ), planned
    result = snakemake(workdir, "--cores", "2", "--resources", "gpu=2", config=config)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    summary = (workdir / "results/report/summary.md").read_text()
    assert (
        "real faces only (`experiment.ratios: [0]`, no synthetic-only run): study 1 generated no faces and trained no GAN"
        in summary
    )
    assert "## Real faces only" in summary and "What the numbers say" not in summary
    assert pd.read_csv(workdir / "results/report/table2.csv")["k"].astype(str).tolist() == ["0"]
    assert not (workdir / "results/gan").exists()


def test_a_design_the_faces_cannot_carry_stops_before_any_gan_job(tmp_path):
    """A split larger than the subjects and a study 2 asking for more neutral faces than a fold has: both named,
    from the prepared face tables, before a GAN trains (they used to surface hours later, from scikit-learn)."""

    def too_big(c):
        c["split"]["test"] = 13
        c["minority"]["n_added"] = [2, 40]
        c["datasets"]["wild"]["demo"]["subjects"] = 30  # a smaller GAN set: the check needs only its table

    config = _variant(tmp_path, too_big)
    workdir = tmp_path / "run"
    result = snakemake(workdir, "--cores", "2", "--resources", "gpu=2", config=config)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "split.val = 2 and split.test = 13 take 2 + 13 = 15 subjects, but real_a+real_b have 14 after preparation"
        in output
    )
    assert (
        "minority.n_added = 40 (minority.dataset real_a): adding 40 translated disgust faces needs 40 neutral faces"
        in output
    )
    assert "check_design.py' returned non-zero exit status 1" in output
    assert output.count("Traceback (most recent call last)") == 1  # the failed job's log, shown once (was three times)
    ran = {p.name for p in (workdir / "results/logs").iterdir()}
    assert ran == {"render_demo_dataset", "prepare_faces", "check_design.log"}, (
        ran
    )  # no GAN, no split, nothing after the check
    assert not (workdir / "results/checks/design.txt").exists()


def test_a_missing_dataset_is_named_with_where_to_put_it(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
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
    # the user replaces the archive (no sha256 given): the next run unpacks and prepares the new one
    shutil.rmtree(tmp_path / "packed")
    write_demo_database(DemoDatabase(seed=9, subjects=3, image_size=64), tmp_path / "packed" / "mydb")
    shutil.make_archive(str(tmp_path / "mydb"), "zip", tmp_path / "packed")
    result = snakemake(workdir, "--cores", "2", "results/faces/cross_b/faces.csv", config=path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert len(pd.read_csv(workdir / "results/faces/cross_b/faces.csv")) == 3 * 7


def test_fer2013_csv_goes_through_prepare_and_the_ambiguity_filter(tmp_path):
    """FER2013 in its released csv layout: prepared without a detector, filtered, counts reported per class."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_fer2013 import write_fer2013_csv

    write_fer2013_csv(tmp_path / "fer" / "fer2013.csv", per_class=6)
    config = yaml.safe_load(TINY.read_text())
    config["datasets"]["fer"] = {
        "loader": "fer2013",
        "path": str(tmp_path / "fer" / "fer2013.csv"),
        "filter_ambiguous": {"keep": 0.5, "folds": 2, "max_epochs": 2, "patience": 1, "batch_size": 16},
    }
    config["roles"]["cross_test"] = [*config["roles"]["cross_test"], "fer"]
    path = tmp_path / "fer.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    dry = snakemake(workdir, "--dry-run", "--quiet", "rules", config=path)
    assert "filter_ambiguous_faces" in dry.stdout, dry.stdout + dry.stderr
    result = snakemake(
        workdir, "--cores", "2", "results/faces/fer/unambiguous/counts.csv", "--resources", "gpu=1", config=path
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    counts = pd.read_csv(workdir / "results/faces/fer/unambiguous/counts.csv").set_index("emotion")
    assert counts.loc["total", "before"] == 42 and (counts.drop("total")["after"] == 3).all()
    kept = pd.read_csv(workdir / "results/faces/fer/unambiguous/faces.csv")
    scored = pd.read_csv(workdir / "results/faces/fer/unambiguous/confidence.csv")
    assert len(kept) == 21 and set(kept["subject"]) == set(scored.loc[scored["kept"], "subject"])


def test_too_many_rejects_stop_the_job_but_the_rejected_list_is_kept(tmp_path):
    """Snakemake deletes a failed job's outputs; the list of what was rejected, and why, stays beside the log."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_fer2013 import write_fer2013_csv

    write_fer2013_csv(tmp_path / "fer" / "fer2013.csv", per_class=2, damaged_rows=6)
    config = yaml.safe_load(TINY.read_text())
    config["datasets"]["fer"] = {"loader": "fer2013", "path": str(tmp_path / "fer" / "fer2013.csv")}
    config["preprocess"]["max_rejected_fraction"] = 0.1
    path = tmp_path / "fer.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    result = snakemake(workdir, "--cores", "1", "results/faces/fer/faces.csv", config=path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "6 of 20 images rejected (30% > preprocess.max_rejected_fraction 10%); most common reasons: "
        "6 x unreadable: OSError: damaged pixel row: expected a square of whole numbers 0-255" in output
    )
    kept = pd.read_csv(workdir / "results/logs/prepare_faces/fer.rejected.csv")
    assert len(kept) == 6 and kept["path"].str.endswith(tuple(f"#{i}" for i in range(14, 20))).all()
    assert not (workdir / "results/faces/fer").exists() or not list((workdir / "results/faces/fer").glob("*.csv"))


def test_a_real_training_set_that_also_trains_the_gans_reaches_them_through_its_training_subjects(tmp_path):
    """The DAG: with real_a in both roles, every GAN reads results/gan_faces/real_a (made after the split),
    never real_a's own store; the step itself is tested in test_data.py."""

    def shared(c):
        c["roles"]["gan_train"] = ["wild", "real_b"]  # real_a is study 2's set, which the GANs may not learn from

    config = _variant(tmp_path, shared)
    planned = planned_jobs(ROOT / "workflow" / "Snakefile", tmp_path / "run", config)
    assert planned["restrict_gan_faces"] == 1 and planned["train_stargan"] == 1
    result = snakemake(
        tmp_path / "run", "--dry-run", "results/gan/stargan/gan_run0/generator.pt", "--quiet", "host", config=config
    )  # rule details shown
    assert result.returncode == 0, result.stdout + result.stderr
    stargan = result.stdout[result.stdout.index("rule train_stargan:") :]
    stargan = stargan[: stargan.index("\n\n")]
    assert "results/gan_faces/real_b/faces.npz" in stargan and "results/faces/real_b/faces.npz" not in stargan, stargan


def test_all_seeds_of_a_run_evaluated_in_one_job_write_what_one_job_per_seed_wrote(tiny_run, tmp_path):
    """experiment.stack_seeds' evaluation (the test faces read once, every seed's model in turn) gives each seed
    the very predictions.csv its own evaluate_classifier job wrote: bit for bit, on any CPU, once both compute the
    same operations in the same order. So this runs on as many threads as that job did (its log says how many):
    on another thread count oneDNN may split a convolution's sums otherwise, and on CPUs with AMX that moved
    probabilities at the 8th decimal."""
    import torch

    from synthfer.steps.classify import evaluate_classifiers_stacked_step

    results = tiny_run / "results"
    run = results / "classify" / "stargan" / "k1"
    stores = lambda folder: [str(folder / name) for name in ("faces.npz", "faces.csv")]  # noqa: E731
    out = [tmp_path / f"seed{s}.csv" for s in (0, 1)]
    job_log = (results / "logs" / "evaluate_classifier" / "stargan_k1_seed0.log").read_text()
    job_threads = int(re.search(r"threads=(\d+)", job_log).group(1))
    threads_before = torch.get_num_threads()
    torch.set_num_threads(job_threads)
    try:
        evaluate_classifiers_stacked_step(
            model=[str(run / f"seed{s}" / "model.pt") for s in (0, 1)],
            real=stores(results / "real"),
            units=stores(results / "generated" / "stargan" / "gan_run0" / "unit0"),
            cross=[*stores(results / "faces" / "cross_a"), *stores(results / "faces" / "cross_b")],
            cross_test=["cross_a", "cross_b"],
            arm="stargan",
            k="1",
            seeds=[0, 1],
            seed_gan_runs=[0, 0],
            unit_gan_runs=[0, 0],
            device="cpu",
            predictions=[str(p) for p in out],
        )
    finally:
        torch.set_num_threads(threads_before)
    for seed, path in zip((0, 1), out, strict=True):
        assert path.read_bytes() == (run / f"seed{seed}" / "predictions.csv").read_bytes(), seed


def test_every_column_of_every_table_a_run_writes_is_in_the_output_page(tiny_run):
    """docs/output.md names every column of every CSV the tiny study wrote, literally or by a placeholder
    (`<emotion>`, `<metric>`, `<test_set>`, `<stat>`)."""
    import csv

    doc = (ROOT / "docs" / "output.md").read_text()
    names = set(re.findall(r"`([a-z0-9_<>]+)`", doc))
    placeholder = re.compile(r"<[a-z_]+>")
    patterns = [  # a name with a placeholder and something literal: `<metric>_mean`, not `<metric>` alone
        re.compile("^" + placeholder.sub("[a-z0-9_]+", n) + "$")
        for n in names
        if placeholder.search(n) and placeholder.sub("", n)
    ]
    undocumented = set()
    for path in (tiny_run / "results").rglob("*.csv"):
        if "benchmarks" in path.parts or "logs" in path.parts:
            continue
        with open(path) as handle:
            columns = next(csv.reader(handle), [])
        for column in columns:
            if column not in names and not any(p.match(column) for p in patterns):
                undocumented.add((path.relative_to(tiny_run / "results").parts[0], column))
    assert not undocumented, f"columns docs/output.md does not name: {sorted(undocumented)}"


def test_a_second_gan_run_trains_every_gan_again_and_makes_the_gan_run_a_unit_of_the_test(tiny_copy, tmp_path):
    """experiment.gan_runs: 2 adds run 1 of every GAN (its seed + 1), its units, and retrains only the seeds
    dealt to it (seed 1 of the tiny study's two); the report then tests with the GAN run as a random unit and
    shows each run's gain."""
    snakefile, workdir = tiny_copy
    copy = workdir.with_name(workdir.name + "_gan_runs")  # beside it: the code inputs keep their relative paths
    shutil.copytree(workdir, copy, symlinks=True)  # modification times kept: only what gan_runs adds is planned
    config = _variant(tmp_path, lambda c: c["experiment"].update(gan_runs=2))
    n_translators = 2
    assert planned_jobs(snakefile, copy, config) == {
        "train_stargan": 1,
        "train_identity_gan": 1,
        "train_cyclegan": 6,  # ecyclegan's six generators, run 1; study 2 keeps run 0's
        "generate_faces": n_translators,
        "train_classifier": 2 * n_translators,  # seed 1 at k = 1 and syn, per translator
        "evaluate_classifier": 2 * n_translators,
        "evaluate_generated": n_translators,
        "check_memorisation": n_translators,
        **REPORT_RULES,
    }
    result = snakemake(copy, "--cores", "2", "--resources", "gpu=2", config=config, snakefile=snakefile)
    assert result.returncode == 0, result.stderr[-5000:]
    seed1 = pd.read_csv(copy / "results/classify/stargan/k1/seed1/predictions.csv")
    assert set(seed1["gan_run"]) == {1} and set(
        pd.read_csv(copy / "results/classify/stargan/k1/seed0/predictions.csv")["gan_run"]
    ) == {0}
    assert pd.read_csv(copy / "results/classify/real/k0/seed1/predictions.csv")["gan_run"].isna().all()
    a = torch.load(copy / "results/gan/stargan/gan_run0/generator.pt", weights_only=True)
    b = torch.load(copy / "results/gan/stargan/gan_run1/generator.pt", weights_only=True)
    assert not torch.equal(next(iter(a["model"].values())), next(iter(b["model"].values())))  # another run, another GAN
    gains = pd.read_csv(copy / "results/report/paired_gains.csv", dtype={"k": str})
    generated = gains[gains["arm"].isin(TRANSLATORS)]
    assert (generated["n_gan_runs"] == 2).all() and (gains.loc[gains["arm"] == "real", "n_gan_runs"] == 0).all()
    per_run = pd.read_csv(copy / "results/report/gan_run_gains.csv")
    assert sorted(per_run["gan_run"].unique()) == [0, 1] and set(per_run["arm"]) == set(TRANSLATORS)
    summary = (copy / "results/report/summary.md").read_text()
    assert (
        "The GAN run is a random unit of these tests (2 runs" in summary
        and "Each GAN run's gain over real only" in summary
    )
    assert (
        "conditional on one GAN run" in (workdir / "results/report/summary.md").read_text()
    )  # the one-run study says so
    quality = pd.read_csv(copy / "results/report/quality.csv")
    assert sorted(quality["gan_run"].unique()) == [0, 1]
    assert {"near_copy_share", "kid_eigenfaces", "precision_eigenfaces"} <= set(quality["metric"])
    assert (copy / "results/quality/stargan/gan_run1/closest_pairs.png").exists()


def test_another_generators_faces_enter_the_study_as_an_arm(tiny_copy):
    """external: a tree of generated faces (here written by the demo renderer: identities x emotions, neutral
    included) goes through detection and alignment, is dealt into units by identity and runs like a
    translator's faces: its classifiers, its comparisons, its quality, its section of the report."""
    snakefile, workdir = tiny_copy
    copy = workdir.with_name(workdir.name + "_external")  # beside it: the code inputs keep their relative paths
    shutil.copytree(workdir, copy, symlinks=True)

    def external(c):
        c["datasets"]["drawn_faces"] = {
            "loader": "demo",
            "demo": {"seed": 9, "subjects": 18, "images_per_emotion": 1, "imaging": "studio"},
        }
        c["external"] = {"drawn": {"dataset": "drawn_faces"}}
        c["translators"] = [*c["translators"], "drawn"]

    config = _variant(copy, external)
    assert planned_jobs(snakefile, copy, config) == {
        "render_demo_dataset": 1,
        "prepare_faces": 1,
        "assign_external_faces": 1,
        "train_classifier": 4,  # k = 1 and syn, both seeds
        "evaluate_classifier": 4,
        "evaluate_generated": 1,
        "check_memorisation": 1,
        "plot_samples": 1,
        **REPORT_RULES,
    }
    result = snakemake(copy, "--cores", "2", "--resources", "gpu=2", config=config, snakefile=snakefile)
    assert result.returncode == 0, result.stderr[-5000:]
    unit = pd.read_csv(copy / "results/generated/drawn/gan_run0/unit0/faces.csv")
    real = pd.read_csv(copy / "results/real/faces.csv")
    assert unit.groupby("split")["subject"].nunique().to_dict() == real.groupby("split")["subject"].nunique().to_dict()
    assert set(unit["identity_source"]) == {"external"} and set(unit["source"]) == {"drawn_faces"}
    gains = pd.read_csv(copy / "results/report/paired_gains.csv", dtype={"k": str})
    assert set(gains.loc[gains["arm"] == "drawn", "k"]) == {"1", "syn"}
    assert (gains.loc[gains["arm"] == "drawn", "n_gan_runs"] == 1).all()
    quality = pd.read_csv(copy / "results/report/quality.csv")
    assert {"kid", "near_copy_share"} <= set(quality.loc[quality["translator"] == "drawn", "metric"])
    summary = (copy / "results/report/summary.md").read_text()
    assert "## Translator: drawn" in summary and (copy / "results/report/samples_drawn.png").exists()
