"""config.yaml validation: bad input gets a message that names the key and what is allowed."""

import copy
from pathlib import Path

import pytest
import yaml

from synthfer import config as sfconfig

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.mark.parametrize(
    "path",
    [
        "tests/data/tiny_config.yaml",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "config").glob("*.yaml")),
    ],
)
def test_shipped_configs_are_valid(path):
    sfconfig.validate_config(yaml.safe_load((ROOT / path).read_text()))


def test_unknown_key_is_named_with_the_allowed_ones(demo_config):
    demo_config["stargan"]["iteratons"] = 5
    with pytest.raises(sfconfig.ConfigError, match=r"stargan\.iteratons.*allowed keys: .*iterations"):
        sfconfig.validate_config(demo_config)


def test_wrong_type_names_the_key(demo_config):
    demo_config["classifier"]["lr"] = "fast"
    with pytest.raises(sfconfig.ConfigError, match=r"classifier\.lr"):
        sfconfig.validate_config(demo_config)


def test_wrong_enum_lists_the_allowed_values(demo_config):
    demo_config["device"] = "tpu"
    with pytest.raises(sfconfig.ConfigError, match=r"device.*allowed values: auto, cuda, cpu"):
        sfconfig.validate_config(demo_config)


def test_classifier_precision_is_checked_and_reaches_every_classifier(demo_config):
    demo_config["classifier"]["precision"] = "fp16"
    with pytest.raises(sfconfig.ConfigError, match=r"classifier\.precision.*allowed values: auto, fp32, bf16"):
        sfconfig.validate_config(demo_config)
    demo_config["classifier"]["precision"] = "fp32"
    demo_config["datasets"]["rafd_demo"]["filter_ambiguous"] = {"keep": 0.9}
    sfconfig.validate_config(demo_config)
    assert sfconfig.classifier_config(demo_config, "1").precision == "fp32"
    assert sfconfig.ambiguity_filter_config(demo_config, "rafd_demo").precision == "fp32"  # the filter's scorer too
    del demo_config["classifier"]["precision"]
    assert sfconfig.classifier_config(demo_config, "1").precision == "auto"


def test_role_must_name_a_defined_dataset(demo_config):
    demo_config["roles"]["cross_test"] = ["mmi"]
    with pytest.raises(sfconfig.ConfigError, match=r"roles\.cross_test: dataset 'mmi' is not defined"):
        sfconfig.validate_config(demo_config)


def test_study_2_must_name_a_defined_dataset_and_an_emotion(demo_config):
    demo_config["minority"] = {"dataset": "fer2013", "target": "disgust", "n_added": [100], "translators": ["stargan"]}
    with pytest.raises(
        sfconfig.ConfigError, match=r"minority\.dataset: 'fer2013' is not defined under datasets; defined: rafd_demo"
    ):
        sfconfig.validate_config(demo_config)
    demo_config["minority"].update(dataset="oulu_demo", target="neutral")
    with pytest.raises(sfconfig.ConfigError, match=r"minority\.target.*allowed values: anger, disgust"):
        sfconfig.validate_config(demo_config)


def test_a_test_set_cannot_be_trained_on(demo_config):
    demo_config["roles"]["cross_test"] = ["rafd_demo"]
    with pytest.raises(sfconfig.ConfigError, match="never be trained on"):
        sfconfig.validate_config(demo_config)


def test_per_ratio_settings_touch_only_that_ratio(demo_config):
    cfg = copy.deepcopy(demo_config)
    cfg["classifier"]["per_ratio"] = {"2": {"lr": 0.123}}
    assert sfconfig.classifier_config(cfg, "2").lr == 0.123
    assert sfconfig.classifier_config(cfg, "1").lr == demo_config["classifier"]["lr"]
    assert sfconfig.classifier_config(cfg, "1") == sfconfig.classifier_config(demo_config, "1")


def test_ratio_keys_always_hold_the_real_only_baseline(demo_config):
    demo_config["experiment"]["ratios"] = [3, 1]
    assert sfconfig.ratio_keys(demo_config) == ["0", "1", "3", "syn"]
    assert sfconfig.n_units(demo_config) == 3
    demo_config["experiment"]["synthetic_only"] = False
    demo_config["experiment"]["ratios"] = [0]
    assert sfconfig.ratio_keys(demo_config) == ["0"] and sfconfig.n_units(demo_config) == 0


def test_stage_configs_take_the_image_size(demo_config):
    size = demo_config["preprocess"]["image_size"]
    assert sfconfig.stargan_config(demo_config).image_size == size
    assert sfconfig.identity_gan_config(demo_config).image_size == size
    assert (
        sfconfig.demo_database(demo_config, "rafd_demo").subjects
        == demo_config["datasets"]["rafd_demo"]["demo"]["subjects"]
    )


def test_dataset_sources_are_checked(demo_config):
    demo_config["datasets"]["extra"] = {"loader": "rafd", "url": "http://127.0.0.1/x.zip"}
    with pytest.raises(sfconfig.ConfigError, match="url needs sha256"):
        sfconfig.validate_config(demo_config)
    demo_config["datasets"]["extra"] = {"loader": "rafd", "path": "/a", "archive": "/b.zip"}
    with pytest.raises(sfconfig.ConfigError, match="exactly one of path"):
        sfconfig.validate_config(demo_config)
    demo_config["datasets"]["extra"] = {"loader": "rafd", "archive": "/b.zip"}
    sfconfig.validate_config(demo_config)
    assert sfconfig.fetched_datasets(demo_config) == ["extra"]
    assert "extra" not in sfconfig.rendered_datasets(demo_config)


def test_translators_are_checked_and_built_per_emotion(demo_config, tmp_path, monkeypatch):
    demo_config["translators"] = ["stargan", "pix2pix"]
    with pytest.raises(sfconfig.ConfigError, match=r"translators\.1.*allowed values: stargan, cyclegan, ecyclegan"):
        sfconfig.validate_config(demo_config)
    demo_config["translators"] = ["stargan", "ecyclegan"]
    demo_config["ecyclegan"] = {"alpha": 0.3}
    sfconfig.validate_config(demo_config)
    cfg = sfconfig.cyclegan_config(demo_config, "ecyclegan", "fear")
    assert (cfg.variant, cfg.source, cfg.target, cfg.alpha, cfg.blocks, cfg.sub_blocks, cfg.cycle_loss) == (
        "ecyclegan",
        "neutral",
        "fear",
        0.3,
        2,
        3,
        "perceptual",
    )
    assert cfg.image_size == demo_config["preprocess"]["image_size"]
    assert (
        sfconfig.cyclegan_config(demo_config, "cyclegan", "fear").cycle_loss == "l1"
    )  # plain CycleGAN: L1 cycle, ResNet blocks
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no VGG19 weights there
    with pytest.raises(
        sfconfig.ConfigError,
        match=r"ecyclegan: the perceptual cycle loss needs VGG19 .* ecyclegan\.vgg_weights: random",
    ):
        sfconfig.check_translator_weights(demo_config)
    demo_config["ecyclegan"]["vgg_weights"] = "random"
    sfconfig.check_translator_weights(demo_config)  # no pretrained weights needed: fine


def test_a_dataset_listed_twice_in_a_role_is_refused(demo_config):
    demo_config["roles"]["real_train"] = ["rafd_demo", "oulu_demo", "rafd_demo"]
    with pytest.raises(
        sfconfig.ConfigError, match=r"roles\.real_train lists rafd_demo more than once; each dataset once per role"
    ):
        sfconfig.validate_config(demo_config)


def test_the_gans_never_learn_from_a_test_set(demo_config):
    demo_config["roles"]["gan_train"] = ["affectnet_demo", "mmi_demo"]
    with pytest.raises(sfconfig.ConfigError, match=r"\['mmi_demo'\] are both gan_train and cross_test"):
        sfconfig.validate_config(demo_config)


def test_per_ratio_settings_for_a_ratio_not_run_are_refused(demo_config):
    demo_config["classifier"]["per_ratio"] = {"4": {"lr": 0.01}, "syn": {"lr": 0.01}}
    with pytest.raises(
        sfconfig.ConfigError, match=r"classifier\.per_ratio: 4 not a ratio this study runs; allowed keys: 0, 1, 3, syn"
    ):
        sfconfig.validate_config(demo_config)
    demo_config["experiment"]["synthetic_only"] = False
    demo_config["classifier"]["per_ratio"] = {"syn": {"lr": 0.01}}
    with pytest.raises(sfconfig.ConfigError, match=r"per_ratio: syn not a ratio.*allowed keys: 0, 1, 3 "):
        sfconfig.validate_config(demo_config)


def test_split_fractions_that_leave_no_training_subject_are_refused(demo_config):
    demo_config["split"].update(val=0.5, test=0.5)
    with pytest.raises(
        sfconfig.ConfigError, match=r"split\.val \+ split\.test = 0\.5 \+ 0\.5 = 1 of the subjects: nothing is left"
    ):
        sfconfig.validate_config(demo_config)


def test_a_torchscript_generator_that_is_no_torchscript_file_is_refused_at_start(demo_config, tmp_path):
    garbage = tmp_path / "generator.pt"
    garbage.write_bytes(b"not a model")
    demo_config["generate"].update(identities="torchscript", torchscript=str(garbage))
    with pytest.raises(
        sfconfig.ConfigError,
        match=r"generate\.torchscript: .*generator\.pt is not a TorchScript file \(torch\.jit\.save writes a zip",
    ):
        sfconfig.validate_config(demo_config)


def test_study_2_may_not_test_on_faces_its_translators_learnt_from(demo_config):
    demo_config["roles"]["gan_train"] = ["affectnet_demo", "oulu_demo"]  # oulu_demo is study 2's dataset
    with pytest.raises(
        sfconfig.ConfigError,
        match=r"minority\.dataset: oulu_demo is also in roles\.gan_train, so study 2's translators would learn",
    ):
        sfconfig.validate_config(demo_config)


def test_max_runtime_names_its_rule_families(demo_config):
    demo_config["max_runtime"] = {"gans": 600}
    with pytest.raises(
        sfconfig.ConfigError,
        match=r"max_runtime\.gans.*allowed keys: prepare, gan, generate, classifier, evaluate, minority",
    ):
        sfconfig.validate_config(demo_config)
    demo_config["max_runtime"] = {"gan": 0}
    with pytest.raises(sfconfig.ConfigError, match=r"max_runtime\.gan"):
        sfconfig.validate_config(demo_config)
    demo_config["max_runtime"] = {"gan": 2880, "classifier": 60}
    sfconfig.validate_config(demo_config)


def test_controls_are_checked_and_add_their_arms(demo_config):
    demo_config["controls"] = {
        "step_matched": True,
        "augmented": False,
        "balanced_selection": True,
        "oversampled": True,
    }
    assert sfconfig.arms(demo_config) == ["stargan", "stargan-selected", "stargan-selected-balanced", "real-steps"]
    assert sfconfig.minority_settings(demo_config) == ["stargan", "cyclegan", "real-oversampled"]
    demo_config["controls"]["step_match"] = True
    with pytest.raises(
        sfconfig.ConfigError,
        match=r"controls\.step_match.*allowed keys: step_matched, augmented, balanced_selection, oversampled",
    ):
        sfconfig.validate_config(demo_config)
    del demo_config["controls"]["step_match"]
    demo_config["controls"]["augmented"] = "yes"
    with pytest.raises(sfconfig.ConfigError, match=r"controls\.augmented: 'yes' is not of type 'boolean'"):
        sfconfig.validate_config(demo_config)
    demo_config["controls"]["augmented"] = True
    without = copy.deepcopy(demo_config)
    del without["selection"], without["minority"]
    with pytest.raises(
        sfconfig.ConfigError,
        match=r"controls\.balanced_selection: true needs a selection: section[\s\S]*controls\.oversampled: true .* needs a minority: section",
    ):
        sfconfig.validate_config(without)
    del demo_config["controls"]
    assert "real-steps" not in sfconfig.arms(demo_config) and sfconfig.minority_settings(demo_config) == [
        "stargan",
        "cyclegan",
    ]  # off when absent


def test_parsing_the_workflow_imports_no_torch():
    """Every dry run and every cluster job parses the workflow: the config module it loads must not pull in torch
    (about 4 s per parse on our machine), scikit-learn or scipy."""
    import subprocess
    import sys

    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'torchvision', 'sklearn', 'scipy'):\n"
        "            raise ImportError('parse-time import of ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import yaml, synthfer.cluster\n"
        "from synthfer import config as c\n"
        f"cfg = yaml.safe_load(open({str(ROOT / 'tests' / 'data' / 'tiny_config.yaml')!r}))\n"
        "c.validate_config(cfg); c.check_translator_weights(cfg)\n"
        "c.stargan_config(cfg); c.cyclegan_config(cfg, 'ecyclegan', 'disgust'); c.classifier_config(cfg, '1', 'stargan')\n"
        "c.identity_config(cfg); c.identity_gan_config(cfg); c.minority_config(cfg); c.prepare_config(cfg)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def _demo_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_a_split_size_of_zero_says_what_is_allowed():
    config = _demo_config()
    config["split"]["val"] = 0
    with pytest.raises(sfconfig.ConfigError) as error:
        sfconfig.validate_config(config)
    assert "split.val: 0 is not allowed; it must be a subject count (integer >= 1) or a fraction" in str(error.value)
    assert "is not valid under any of the given schemas" not in str(error.value)


def test_a_yaml_alias_bomb_is_refused_before_validation_spells_it_out():
    """Nine aliases of nine, seven levels deep: 9**7 = 4.8 million values from a 300-byte file. Counting shared
    objects once, the size check answers at once; jsonschema's messages would spell out every value."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdef", "bcdefg", strict=True):
        levels.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    config = _demo_config()
    config["split"]["val"] = yaml.safe_load("\n".join(levels))["g"]
    assert sfconfig.config_size(config) > sfconfig.MAX_CONFIG_VALUES
    with pytest.raises(sfconfig.ConfigError, match=r"more than 100,000 values"):
        sfconfig.validate_config(config)
    assert sfconfig.config_size(_demo_config()) < 2000  # a real config is far below the bound


def test_a_key_given_twice_in_a_config_file_is_refused_with_both_lines(tmp_path):
    text = (ROOT / "config" / "config.yaml").read_text() + "\nstargan:\n  iterations: 5\n"
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    first = next(i for i, line in enumerate(text.splitlines(), start=1) if line.startswith("stargan:"))
    with pytest.raises(sfconfig.ConfigError, match=rf"key 'stargan' appears twice in one section \(lines {first} and"):
        sfconfig.load_config(path)


def test_the_workflow_refuses_a_config_file_with_a_key_twice(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "twice.yaml"
    path.write_text((ROOT / "config" / "config.yaml").read_text() + "\nsplit: {val: 2, test: 2}\n")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile"), "--directory", str(tmp_path)]
        + ["--configfile", str(path), "--dry-run", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "key 'split' appears twice in one section" in result.stdout + result.stderr
