"""Real photos in each dataset's own layout, as a user's copy holds them, through the workflow.

Tight crops, OS debris in every folder, an empty video, an annotation that is not XML, a label file without a
number and AffectNet rows without landmarks go through `prepare_faces`, `check_design` and `split_subjects`;
misspelt and wrong loader options stop the run before any job with their key and what is allowed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import real_layouts as layouts
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = {  # name: (builder, loader, options)
    "rafd": (layouts.write_rafd, "rafd", {}),
    "oulu": (layouts.write_oulu_cropped, "oulu", {"apex_frames": 1, "neutral_first_frame": True}),
    "affectnet_hq": (layouts.write_affectnet_hq, "folder", {}),
    "mmi": (layouts.write_mmi, "mmi", {}),
    "ckplus": (layouts.write_ckplus, "ckplus", {}),
    "affectnet": (layouts.write_affectnet, "affectnet", {}),
    "kdef": (layouts.write_kdef, "kdef", {}),
    "jaffe": (layouts.write_jaffe, "jaffe", {}),
    "fer2013": (layouts.write_fer2013, "fer2013", {}),
}


def snakemake(workdir: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
        "--configfile",
        str(config),
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=1200
    )  # a safety net: two test workers share the cores


def study(data: Path, datasets: dict) -> dict:
    config = yaml.safe_load((ROOT / "tests" / "data" / "tiny_config.yaml").read_text())
    del config["minority"]
    config["datasets"] = datasets
    config["roles"] = {"real_train": ["rafd", "oulu"], "gan_train": ["affectnet_hq"], "cross_test": ["mmi", "ckplus"]}
    # a handful of real photos stand in for every subject of every layout, so one photo sits under several
    # subjects: in a real dataset a leak, here the test's own economy (the split says so in its log)
    config["split"] = {"val": 2, "test": 2, "seed": 0, "allow_duplicates": True}
    config["preprocess"]["max_rejected_fraction"] = 0.3
    config["experiment"]["allow_missing_emotions"] = True  # the test trees of MMI and CK+ hold a few emotions each
    return config


LABELS = """file,emotion,subject,first_frame,last_frame
Sessions/1/S001-001.avi,happy,P7,1,3
Sessions/3/S002-001.jpg,Sad,,,
Sessions/8/S004-002.jpg,surprised,P8,,
Sessions/6/missing.avi,fear,P9,,
"""


@pytest.fixture(scope="module")
def real_copy(tmp_path_factory) -> tuple[Path, Path, dict]:
    data = tmp_path_factory.mktemp("data")
    expected = {name: build(data / name) for name, (build, _, _) in BUILDERS.items()}
    datasets = {
        name: {"loader": loader, "path": str(data / name), **({"options": opts} if opts else {})}
        for name, (_, loader, opts) in BUILDERS.items()
    }
    (data / "mmi_labels.csv").write_text(LABELS)  # the user's own labels over the MMI copy
    datasets["mmi_relabelled"] = {"loader": "mmi", "path": str(data / "mmi"), "labels": str(data / "mmi_labels.csv")}
    config = tmp_path_factory.mktemp("config") / "real.yaml"
    config.write_text(yaml.safe_dump(study(data, datasets)))
    workdir = tmp_path_factory.mktemp("run")
    targets = [f"results/faces/{name}/faces.csv" for name in [*BUILDERS, "mmi_relabelled"]] + ["results/real/faces.csv"]
    result = snakemake(workdir, config, "--cores", "2", *targets)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return data, workdir, expected


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_usable_face_is_kept_and_every_unusable_file_listed_with_its_reason(real_copy, name):
    data, workdir, expected = real_copy
    faces = pd.read_csv(workdir / f"results/faces/{name}/faces.csv")
    rejected = pd.read_csv(workdir / f"results/faces/{name}/rejected.csv")
    assert len(faces) == expected[name]["faces"]
    assert not faces["path"].str.contains(r"/\.|__MACOSX|Thumbs|desktop\.ini|README").any()  # no debris became a record
    listed = {
        str(Path(p.split("#")[0]).relative_to(data / name)) + ("#" + p.split("#")[1] if "#" in p else ""): reason
        for p, reason in zip(rejected["path"], rejected["reason"])
    }
    assert set(listed) == set(expected[name]["rejected"]), listed
    for path, start in dict(expected[name]["rejected"]).items():
        assert listed[path].startswith(start), (path, listed[path])


def test_labels_and_subjects_come_from_each_layout(real_copy):
    _, workdir, _ = real_copy
    read = lambda name: pd.read_csv(workdir / f"results/faces/{name}/faces.csv")  # noqa: E731
    rafd, oulu, hq = read("rafd"), read("oulu"), read("affectnet_hq")
    assert sorted(rafd["subject"].unique()) == [f"rafd/{s:02d}" for s in range(1, 7)]
    assert (rafd.groupby("subject")["emotion"].nunique() == 7).all()  # contempt dropped, the 7 domains kept
    assert sorted(oulu["subject"].unique()) == [f"oulu/P{p:03d}" for p in range(1, 5)]
    assert (oulu["emotion"] == "neutral").sum() == 24 and (
        oulu.loc[oulu["emotion"] != "neutral", "frame"] == 3
    ).all()  # first frame, last frame
    assert hq["emotion"].value_counts().to_dict() == {
        e: 3 for e in ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
    }
    assert hq["subject"].is_unique  # in the wild: every image its own identity
    assert sorted(read("ckplus")["emotion"]) == ["anger", "disgust", "happiness", "surprise"]
    assert sorted(read("mmi")["emotion"]) == ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]
    kdef = read("kdef")
    assert kdef.groupby("subject")["emotion"].count().to_dict() == {
        "kdef/F01": 14,
        "kdef/M02": 7,
    }  # AF01 + BF01: one person
    assert sorted(read("jaffe")["subject"].unique()) == ["jaffe/KA", "jaffe/YM"]
    assert read("fer2013")["subject"].is_unique


def test_tight_crops_are_kept(real_copy):
    """Oulu `Cropped/` and AffectNet-HQ: every crop kept (the full-range detector alone kept about half)."""
    _, workdir, expected = real_copy
    for name in ("oulu", "affectnet_hq"):
        assert len(pd.read_csv(workdir / f"results/faces/{name}/faces.csv")) / expected[name]["faces"] >= 0.97


def test_the_real_split_is_subject_disjoint(real_copy):
    _, workdir, _ = real_copy
    real = pd.read_csv(workdir / "results/real/faces.csv")
    assert (real.groupby("subject")["split"].nunique() == 1).all()
    assert real.groupby("split")["subject"].nunique().to_dict() == {"test": 2, "train": 6, "val": 2}


def test_misspelt_and_wrong_loader_options_stop_the_run_before_any_job(real_copy, tmp_path):
    data, _, _ = real_copy
    datasets = {name: {"loader": loader, "path": str(data / name)} for name, (_, loader, _) in BUILDERS.items()}
    datasets["oulu"]["options"] = {"apex_frame": 3, "modality": "VIS", "lighting": "Strong"}
    datasets["affectnet_hq"]["options"] = {"subject_regexp": r"image(\d+)"}
    datasets["mmi"]["options"] = {"rotate": {"1767": 45}}
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(study(data, datasets)))
    result = snakemake(tmp_path / "run", config, "--dry-run")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for message in [
        "unknown key datasets.oulu.options.apex_frame; allowed keys: modality, lighting, apex_frames, neutral_first_frame",
        "datasets.oulu.options.modality: 'VIS' is not one of ['VL', 'NI']; allowed values: VL, NI",
        "datasets.oulu.options.lighting: 'Strong' is not of type 'array'",
        "unknown key datasets.affectnet_hq.options.subject_regexp; allowed keys: subject_regex",
        "datasets.mmi.options.rotate.1767: 45 is not one of [90, 180, 270]",
    ]:
        assert message in output, message
    assert not (tmp_path / "run" / "results").exists()


def test_a_labels_table_decides_files_labels_subjects_and_frames(real_copy):
    _, workdir, _ = real_copy
    faces = pd.read_csv(workdir / "results/faces/mmi_relabelled/faces.csv")
    rejected = pd.read_csv(workdir / "results/faces/mmi_relabelled/rejected.csv")
    assert list(zip(faces["emotion"], faces["subject"], faces["frame"])) == [
        ("happiness", "mmi_relabelled/P7", 1),
        ("happiness", "mmi_relabelled/P7", 2),
        ("happiness", "mmi_relabelled/P7", 3),
        ("sadness", "mmi_relabelled/S002", 0),  # no subject given: the layout's
        ("surprise", "mmi_relabelled/P8", 0),  # a session whose own annotation does not parse, labelled by the table
    ]
    assert list(rejected["reason"]) == ["labels table row 5: file not found"]


def test_a_bad_labels_table_stops_the_run_before_any_job_with_its_rows(real_copy, tmp_path):
    data, _, _ = real_copy
    datasets = {name: {"loader": loader, "path": str(data / name)} for name, (_, loader, _) in BUILDERS.items()}
    table = tmp_path / "labels.csv"
    table.write_text(
        "file,emotion,first_frame,last_frame\nSessions/1/S001-001.avi,joy,1,3\nSessions/3/S002-001.jpg,sad,5,2\n"
    )
    datasets["mmi"]["labels"] = str(table)
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(study(data, datasets)))
    result = snakemake(tmp_path / "run", config, "--dry-run")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "datasets.mmi.labels: " in output and "row 2: emotion 'joy' is not one of neutral, anger" in output
    assert "row 3: last_frame 2 is before first_frame 5" in output
    table.write_text("path,label\nx.jpg,happy\n")
    result = snakemake(tmp_path / "run", config, "--dry-run")
    output = result.stdout + result.stderr
    assert (
        "no file, emotion column; unknown column path, label; allowed columns: file, emotion, subject, first_frame, last_frame"
        in output
    )
