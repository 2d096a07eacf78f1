"""The code each rule runs, read from the imports: editing one stage's code reruns that stage only."""

from __future__ import annotations

from pathlib import Path

from synthfer.codemap import SHARED, code_map, own_files, step_modules

ROOT = Path(__file__).resolve().parents[1]
SRC, SCRIPTS = ROOT / "src", ROOT / "workflow" / "scripts"


def _modules(rule: str) -> set[str]:
    return step_modules(SRC, SCRIPTS / f"{rule}.py")


def test_each_gan_rule_runs_its_own_trainer_only():
    trainers = {"train_stargan": "synthfer.train.stargan", "train_cyclegan": "synthfer.train.cyclegan",
                "train_identity_gan": "synthfer.train.identity_gan"}  # fmt: skip
    for rule, trainer in trainers.items():
        others = set(trainers.values()) - {trainer}
        assert trainer in _modules(rule) and not others & _modules(rule), rule
    assert "synthfer.train.penalties" in _modules("train_cyclegan") & _modules("train_stargan")


def test_the_classifier_rules_run_the_classifier_and_the_gan_rules_do_not():
    for rule in ("train_classifier", "evaluate_classifier", "cross_validate_minority", "filter_ambiguous_faces"):
        assert "synthfer.train.classifier" in _modules(rule), rule
    for rule in ("train_stargan", "train_cyclegan", "generate_faces", "render_demo_dataset", "prepare_faces"):
        assert "synthfer.train.classifier" not in _modules(rule), rule


def test_a_step_brings_in_what_its_own_function_imports_not_its_neighbours():
    assert "synthfer.quality" in _modules("evaluate_generated")  # imported inside evaluate_generated_faces
    assert "synthfer.quality" not in _modules("train_classifier")  # same module, another function
    assert "synthfer.train.stacked" in _modules("train_classifiers_stacked")
    assert "synthfer.train.stacked" not in _modules("train_classifier")
    assert "synthfer.data.loaders" in _modules("prepare_faces") and "synthfer.data.loaders" not in _modules(
        "render_demo_dataset"
    )
    # the renderer belongs to the demo only: editing it never re-prepares a real dataset
    assert "synthfer.data.render" in _modules("render_demo_dataset")
    for rule in ("prepare_faces", "split_subjects", "check_design", "fetch_dataset", "restrict_gan_faces"):
        assert "synthfer.data.render" not in _modules(rule), rule


def test_the_identity_source_is_part_of_generation_and_shared_helpers_are_left_out():
    generate = _modules("generate_faces")
    assert {"synthfer.models.stylegan", "synthfer.train.identity_gan", "synthfer.translate"} <= generate
    assert "synthfer.train.cyclegan" not in generate  # a translator's generator file is an input; its trainer is not
    for rule in ("train_classifier", "generate_faces", "write_summary"):
        assert not SHARED & _modules(rule)


def test_every_rule_script_has_an_entry_of_existing_files(tmp_path):
    mapping = code_map(SRC, SCRIPTS)
    assert set(mapping) == {p.stem for p in SCRIPTS.glob("*.py")}
    assert all(files and all(Path(f).is_file() for f in files) for files in mapping.values())
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "broken.py").write_text("print('no step')\n")
    try:
        code_map(SRC, scripts)
    except LookupError as error:
        assert "imports no step" in str(error)
    else:
        raise AssertionError("a script without a step must be an error")


def test_what_a_step_calls_inside_its_functions_is_followed_and_marked_skips_are_not():
    assert "synthfer.models.classifier" in _modules("train_classifier")  # the network the loop trains
    assert "synthfer.models.identity_gan" in _modules("train_identity_gan")  # the DCGAN, built by its config
    assert "synthfer.data.detect" in _modules("prepare_faces")  # imported inside prepare's detector helper
    assert "synthfer.augment" in _modules("train_classifier")
    # a config's builders are marked: reading a setting does not make a rule depend on every network
    for rule in ("prepare_faces", "split_subjects", "plot_samples"):
        assert not {m for m in _modules(rule) if m.startswith(("synthfer.models.", "synthfer.train."))}, rule
    # a translator's generator file is study 2's input; the CycleGAN trainer is not its code
    assert "synthfer.train.cyclegan" not in _modules("cross_validate_minority")


def test_the_design_check_lists_only_its_own_code():
    """Other rules take the check as ancient() input; a shared file in its code input would make it rerun with
    them, and Snakemake 9.27 then leaves their jobs out of that run."""
    mapping = code_map(SRC, SCRIPTS)
    assert own_files(mapping, "check_design") == [str(SRC / "synthfer" / "preflight.py")]


def test_a_modules_templates_come_with_it():
    mapping = code_map(SRC, SCRIPTS)
    templates = {str(SRC / "synthfer" / name) for name in ("summary.md.j2", "summary.sections.md.j2")}
    assert templates <= set(mapping["write_summary"])
    assert not any(templates & set(files) for rule, files in mapping.items() if rule != "write_summary")
