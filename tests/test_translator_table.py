"""One translator table (synthfer/translators.py): a new CycleGAN-family entry is one edit there, and it flows
through the config check, the DAG, the seam and the model code without any other file changing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synthfer import translators
from synthfer.settings import CycleGANConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_workflow import TINY, copy_of_the_workflow, planned_jobs  # noqa: E402

TOY = """
TABLE["toygan"] = Translator(
    "toygan", "a toy CycleGAN-family member for the test", per_emotion=True, dense_blocks=True,
    defaults=MappingProxyType({"blocks": 1, "sub_blocks": 2}),
)
NAMES = tuple(TABLE)
PER_EMOTION = tuple(name for name, t in TABLE.items() if t.per_emotion)
"""


def test_every_translator_name_is_known_and_an_unknown_one_is_named_with_the_known_ones():
    assert set(translators.NAMES) == {"stargan", "cyclegan", "ecyclegan"}
    assert translators.PER_EMOTION == ("cyclegan", "ecyclegan")
    with pytest.raises(ValueError, match="unknown translator 'pix2pix'; known: stargan, cyclegan, ecyclegan"):
        translators.translator("pix2pix")
    with pytest.raises(ValueError, match=r"variant must be one of \('cyclegan', 'ecyclegan'\), got 'pix2pix'"):
        CycleGANConfig(variant="pix2pix")


def test_a_family_members_entry_decides_its_generator():
    plain = CycleGANConfig(variant="cyclegan", ngf=4, blocks=1, sub_blocks=2).build_generator()
    dense = CycleGANConfig(variant="ecyclegan", ngf=4, blocks=1, sub_blocks=2).build_generator()
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(dense) > count(plain)  # residual dense blocks, from the table's dense_blocks


def test_a_new_cyclegan_family_entry_flows_through_the_dag(tmp_path):
    (tmp_path / "code").mkdir()
    snakefile = copy_of_the_workflow(tmp_path / "code")
    table = snakefile.parents[1] / "src" / "synthfer" / "translators.py"
    table.write_text(table.read_text() + TOY)  # the only edit
    config = yaml.safe_load(TINY.read_text())
    config["translators"] = ["stargan", "toygan"]
    config["toygan"] = {"ngf": 4, "ndf": 4, "d_layers": 2, "iterations": 4, "batch_size": 4, "cycle_loss": "l1"}
    config["minority"]["translators"] = ["toygan"]
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(snakefile, tmp_path / "work", path)
    assert jobs["train_cyclegan"] == 6  # Neutral -> each of the six emotions
    assert jobs["generate_faces"] == 2 and jobs["plot_samples"] == 2  # stargan's unit and toygan's
    bound = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "helpers" / "bind_every_job.py"), str(snakefile), str(path), str(tmp_path / "w")],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(snakefile.parents[1] / "src")},
    )  # fmt: skip
    assert bound.returncode == 0, bound.stderr[-3000:]
    report = json.loads(bound.stdout.splitlines()[-1])
    assert report["errors"] == [] and report["jobs"]["train_cyclegan"] == 6
    code = (
        "import yaml; from synthfer.config import cyclegan_config; "
        f"c = cyclegan_config(yaml.safe_load(open({str(path)!r})), 'toygan', 'anger'); "
        "print(c.variant, c.blocks, c.sub_blocks, sum(p.numel() for p in c.build_generator().parameters()) > 0)"
    )
    env = {**os.environ, "PYTHONPATH": str(snakefile.parents[1] / "src")}
    check = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert check.stdout.split() == ["toygan", "1", "2", "True"], check.stderr[-2000:]  # the entry's defaults


def test_a_config_naming_an_unknown_translator_fails_with_the_known_ones(tmp_path):
    from synthfer.config import ConfigError, validate_config

    config = yaml.safe_load(TINY.read_text())
    config["translators"] = ["stargan", "toygan"]
    with pytest.raises(ConfigError, match="'toygan' is not one of \\['stargan', 'cyclegan', 'ecyclegan'\\]"):
        validate_config(config)


def test_a_new_baseline_architecture_is_an_arm_of_its_own_in_the_dag(tmp_path):
    """A baseline is its name in settings.CLASSIFIER_ARCHITECTURES (and its builder): the config check, the arm
    vocabulary and the DAG follow from that list."""
    (tmp_path / "code").mkdir()
    snakefile = copy_of_the_workflow(tmp_path / "code")
    settings = snakefile.parents[1] / "src" / "synthfer" / "settings.py"
    source = settings.read_text()
    assert source.count('CLASSIFIER_ARCHITECTURES = (PAPER_CNN, "vgg16")') == 1
    settings.write_text(source.replace('(PAPER_CNN, "vgg16")', '(PAPER_CNN, "vgg16", "toynet")'))
    config = yaml.safe_load(TINY.read_text())
    config["experiment"]["baselines"] = ["toynet"]
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(snakefile, tmp_path / "work", path)
    plain = planned_jobs(snakefile, tmp_path / "work", TINY)
    n_seeds = len(config["experiment"]["seeds"])
    assert jobs["train_classifier"] == plain["train_classifier"] + n_seeds  # toynet at k = 0, every seed
    dry = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--directory", str(tmp_path / "work"),
         "--configfile", str(path), "--dag"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert re.search(r"train_classifier.*arm: toynet.*k: 0", dry.stdout), dry.stderr[-2000:]  # its own arm
