"""config.yaml: validation with messages that name the key, and one dataclass per stage built from it."""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import yaml

from synthfer import translators as translators_table
from synthfer.arms import BASELINE_ARCHITECTURES, SYNTHETIC_ONLY
from synthfer.data.acquire import UnpackLimits
from synthfer.data.demo import DemoDatabase
from synthfer.data.labels_table import read_labels_table
from synthfer.data.loader_options import options_schema
from synthfer.data.prepare import PrepareConfig
from synthfer.labels import EMOTIONS, NEUTRAL
from synthfer.settings import (
    AmbiguityFilterConfig,
    ClassifierConfig,
    CycleGANConfig,
    IdentityConfig,
    IdentityGANConfig,
    MinorityConfig,
    StarGANConfig,
)

if TYPE_CHECKING:
    from synthfer.selection import SelectionConfig

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """config.yaml is invalid; the message names the key and what is allowed."""


def _key_path(error: jsonschema.ValidationError, prefix: str = "") -> str:
    return ".".join([*filter(None, [prefix]), *(str(p) for p in error.absolute_path)]) or "(top level)"


def _allowed(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and "properties" in schema:
        return f"; allowed keys: {', '.join(schema['properties'])}"
    if error.validator == "enum":
        return f"; allowed values: {', '.join(map(str, error.validator_value))}"
    return ""


def _describe(error: jsonschema.ValidationError, prefix: str = "") -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator in ("oneOf", "anyOf") and schema.get("description"):  # say what is allowed, not "no schema"
        return f"{_key_path(error, prefix)}: {error.instance!r} is not allowed; it must be {schema['description']}"
    if error.validator == "additionalProperties" and "properties" in (
        error.schema if isinstance(error.schema, dict) else {}
    ):
        schema = error.schema if isinstance(error.schema, dict) else {}
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        where = _key_path(error, prefix)
        names = ", ".join(f"{where}.{k}" if where != "(top level)" else k for k in extra)
        allowed = _allowed(error) if schema.get("properties") else "; this loader takes no options"
        return f"unknown key {names}{allowed}"
    return f"{_key_path(error, prefix)}: {error.message}{_allowed(error)}"


def _options_problems(name: str, dataset: dict[str, Any]) -> list[str]:
    """A dataset's loader options against the loader's declaration (data/loader_options.py)."""
    prefix = f"datasets.{name}.options"
    options = dataset.get("options", {})
    validator = jsonschema.Draft202012Validator(options_schema(dataset["loader"]))
    problems = [
        _describe(e, prefix) for e in sorted(validator.iter_errors(options), key=lambda e: list(e.absolute_path))
    ]
    regex = options.get("subject_regex") if dataset["loader"] == "folder" and not problems else None
    if regex:
        try:
            if re.compile(regex).groups < 1:
                problems.append(
                    f"{prefix}.subject_regex: {regex!r} has no group; its first group (...) must hold the subject"
                )
        except re.error as exc:
            problems.append(f"{prefix}.subject_regex: {regex!r} is not a regular expression ({exc})")
    return problems


def with_translators(schema: dict[str, Any], external: list[str] | None = None) -> dict[str, Any]:
    """The schema with the tables filled in: the names `translators:` may list (the table's, and the config's
    `external:` arms), a `<name>:` section for every CycleGAN-family member (synthfer.translators), the
    baseline architectures (synthfer.arms), so that a new entry in either needs no schema edit. Study 2 takes
    the table's translators only: it translates neutral faces."""
    schema["$defs"]["translator"] = {**schema["$defs"].get("translator", {}), "enum": list(translators_table.NAMES)}
    listed = schema["properties"]["translators"]
    listed["items"] = {**listed.get("items", {}), "enum": [*translators_table.NAMES, *(external or [])]}
    listed["items"].pop("$ref", None)
    schema["$defs"]["baseline"] = {**schema["$defs"].get("baseline", {}), "enum": list(BASELINE_ARCHITECTURES)}
    for name in translators_table.PER_EMOTION:
        schema["properties"].setdefault(name, {"$ref": "#/$defs/cycle_translator"})
    return schema


MAX_CONFIG_VALUES = 100_000
"""More values than any study needs (the paper's config has a few hundred): a config beyond it is refused before
validation, whose error messages would spell out every value (a YAML alias bomb expands to billions)."""


def config_size(value: Any, limit: int = MAX_CONFIG_VALUES) -> int:
    """How many values `value` holds, counted as the config would be read (an alias counts each time it is used),
    stopping once past `limit`; each shared object is counted once and remembered, so this takes time in the
    number of distinct objects, not in what they expand to."""
    sizes: dict[int, int] = {}

    def size(item: Any) -> int:
        if id(item) in sizes:
            return sizes[id(item)]
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list | tuple) else ()
        total = 1
        for child in children:
            total += size(child)
            if total > limit:
                break
        sizes[id(item)] = total
        return total

    return size(value)


class _NoDuplicateKeys(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that gives one key twice (PyYAML keeps the last silently)."""


def _mapping_without_duplicates(loader: _NoDuplicateKeys, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key != "<<" and key in seen:
            raise ConfigError(
                f"{node.start_mark.name}: key {key!r} appears twice in one section (lines {seen[key]} and "
                f"{key_node.start_mark.line + 1}); YAML would keep the second silently: merge them into one"
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_NoDuplicateKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def refuse_duplicate_keys(path: str | os.PathLike) -> None:
    """Raise ConfigError when the YAML file at `path` gives a key twice in one mapping (two `stargan:` blocks)."""
    with open(path) as handle:
        yaml.load(handle, Loader=_NoDuplicateKeys)  # noqa: S506 - a SafeLoader subclass


def validate_config(config: dict[str, Any], schema_path: str | os.PathLike = SCHEMA_PATH) -> None:
    """Check config against the schema and the cross-references between sections."""
    if config_size(config) > MAX_CONFIG_VALUES:
        raise ConfigError(
            f"invalid config: more than {MAX_CONFIG_VALUES:,} values (YAML aliases expanding into each other?); "
            "a study's config holds a few hundred"
        )
    external = config.get("external") if isinstance(config, dict) else None
    schema = with_translators(
        yaml.safe_load(Path(schema_path).read_text()), list(external) if isinstance(external, dict) else []
    )
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e) for e in errors))
    datasets = config["datasets"]
    problems = []
    for role, names in config["roles"].items():
        for name in names:
            if name not in datasets:
                problems.append(
                    f"roles.{role}: dataset {name!r} is not defined under datasets; defined: {', '.join(datasets)}"
                )
    for name, ds in datasets.items():
        problems += _options_problems(name, ds)
        if "labels" in ds:
            try:
                read_labels_table(ds["labels"])
            except ValueError as exc:
                problems.append(f"datasets.{name}.labels: {exc}")
        sources = [k for k in ("path", "url", "archive") if k in ds]
        if ds["loader"] == "demo" and "demo" not in ds and not sources:
            problems.append(
                f"datasets.{name}: loader 'demo' needs a 'demo:' block (seed, subjects, ...) to render it, or a path/archive/url of a rendered one"
            )
        if ds["loader"] == "demo" and "demo" in ds and sources:
            problems.append(
                f"datasets.{name}: give either a 'demo:' block (render it) or {sources[0]} (read it), not both"
            )
        if len(sources) > 1 or (ds["loader"] != "demo" and not sources):
            problems.append(
                f"datasets.{name}: loader {ds['loader']!r} needs exactly one of path (an unpacked folder), archive "
                f"(a local zip/tar) or url (+ sha256); got {sources or 'none'}"
            )
        if "url" in ds and "sha256" not in ds:
            problems.append(f"datasets.{name}: url needs sha256, so that a wrong or corrupt download is never used")
    if "minority" in config and config["minority"]["dataset"] not in datasets:
        problems.append(
            f"minority.dataset: {config['minority']['dataset']!r} is not defined under datasets; defined: {', '.join(datasets)}"
        )
    overlap = set(config["roles"]["real_train"]) & set(config["roles"]["cross_test"])
    if overlap:
        problems.append(
            f"roles: {sorted(overlap)} are both real_train and cross_test; a cross-database test set must never be trained on"
        )
    overlap = set(config["roles"]["gan_train"]) & set(config["roles"]["cross_test"])
    if overlap:
        problems.append(
            f"roles: {sorted(overlap)} are both gan_train and cross_test; the GANs must never learn from a test set's faces"
        )
    if "minority" in config and config["minority"]["dataset"] in config["roles"]["gan_train"]:
        name = config["minority"]["dataset"]
        problems.append(
            f"minority.dataset: {name} is also in roles.gan_train, so study 2's translators would learn from the faces its folds test on; "
            f"give study 2 a dataset the GANs do not train on (for FER2013: the same csv with options.usage [PublicTest, PrivateTest], "
            "and the GANs on usage [Training]; config/fer2013.yaml does this)"
        )
    on = controls(config)
    if on["balanced_selection"] and "selection" not in config:
        problems.append(
            "controls.balanced_selection: true needs a selection: section (it rebalances the selected arm); add selection: {} or set it false"
        )
    if on["oversampled"] and "minority" not in config:
        problems.append(
            "controls.oversampled: true is a control of study 2 and needs a minority: section; add one or set it false"
        )
    problems += _external_problems(config)
    problems += _design_problems(config)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))


def _external_problems(config: dict[str, Any]) -> list[str]:
    """An external arm's name must be free and listed, its dataset defined and in no role."""
    from synthfer.arms import BASELINE_ARCHITECTURES, CONTROLS, OVERSAMPLED, REAL_ONLY

    problems = []
    taken = {*translators_table.NAMES, *BASELINE_ARCHITECTURES, *CONTROLS, OVERSAMPLED, REAL_ONLY}
    in_roles = {d for names in config["roles"].values() for d in names}
    for name, arm in config.get("external", {}).items():
        if name in taken:
            problems.append(f"external.{name}: the name is taken (a translator, control or baseline); choose another")
        if name not in translators(config):
            problems.append(f"external.{name}: not in translators, so it would not run; add it to translators")
        if arm["dataset"] not in config["datasets"]:
            problems.append(
                f"external.{name}.dataset: {arm['dataset']!r} is not defined under datasets; defined: {', '.join(config['datasets'])}"
            )
        if arm["dataset"] in in_roles:
            problems.append(
                f"external.{name}.dataset: {arm['dataset']} is also in roles; generated faces are an arm, never real training or test faces"
            )
    return problems


def _design_problems(config: dict[str, Any]) -> list[str]:
    """What the config alone shows is wrong with the design (the data-dependent checks are in preflight.py)."""
    problems = []
    for role, names in config["roles"].items():
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(
                f"roles.{role} lists {', '.join(twice)} more than once; each dataset once per role (twice would double its faces)"
            )
    keys = ratio_keys(config)
    unknown = [k for k in config.get("classifier", {}).get("per_ratio", {}) if k not in keys]
    if unknown:
        problems.append(
            f"classifier.per_ratio: {', '.join(unknown)} not a ratio this study runs; allowed keys: {', '.join(keys)} "
            "(experiment.ratios, and syn with experiment.synthetic_only)"
        )
    if precision(config) == "fp32" and config.get("classifier", {}).get("precision", "fp32") == "bf16":
        problems.append(
            "precision: fp32 trains every classifier in fp32, but classifier.precision says bf16; remove one of them"
        )
    runs = gan_runs(config)
    if runs > 1 and config.get("stargan_model") and "stargan" in trained_translators(config):
        problems.append(
            f"experiment.gan_runs: {runs} trains {runs} runs of every GAN, but stargan_model is one trained StarGAN "
            "(its run is fixed); set experiment.gan_runs: 1, or remove stargan_model to train StarGAN here"
        )
    if runs > len(config["experiment"]["seeds"]):
        problems.append(
            f"experiment.gan_runs: {runs} runs but {len(config['experiment']['seeds'])} seed(s) in experiment.seeds: "
            "each GAN run needs a classifier seed that trains on its faces; list at least as many seeds as runs"
        )
    val, test = config["split"]["val"], config["split"]["test"]
    if float(val) < 1 and float(test) < 1 and val + test >= 1:
        problems.append(
            f"split.val + split.test = {val} + {test} = {val + test:g} of the subjects: nothing is left to train on; keep the sum below 1"
        )
    generate = config.get("generate", {})
    path = generate.get("torchscript")
    if generate.get("identities") == "torchscript" and path and Path(path).is_file() and not zipfile.is_zipfile(path):
        problems.append(
            f"generate.torchscript: {path} is not a TorchScript file (torch.jit.save writes a zip archive); "
            "export your generator with torch.jit.script or torch.jit.trace and save it with torch.jit.save"
        )
    return problems


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    refuse_duplicate_keys(path)
    config = yaml.safe_load(Path(path).read_text())
    validate_config(config)
    return config


def _pick(cls: type, section: dict[str, Any], **extra: Any) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in section.items() if k in names}, **extra)


def rendered_datasets(config: dict[str, Any]) -> list[str]:
    """Demo datasets the workflow renders itself (into results/raw/<name>)."""
    return [n for n, ds in config["datasets"].items() if ds["loader"] == "demo" and "demo" in ds]


def fetched_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets the workflow downloads or unpacks itself (into results/raw/<name>)."""
    return [n for n, ds in config["datasets"].items() if "url" in ds or "archive" in ds]


def filtered_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets whose ambiguous samples are removed before use (`filter_ambiguous:` set)."""
    return [n for n, ds in config["datasets"].items() if "filter_ambiguous" in ds]


def ambiguity_filter_config(config: dict[str, Any], dataset: str) -> AmbiguityFilterConfig:
    return _pick(
        AmbiguityFilterConfig,
        config["datasets"][dataset]["filter_ambiguous"],
        image_size=config["preprocess"]["image_size"],
        precision="fp32" if precision(config) == "fp32" else config.get("classifier", {}).get("precision", "auto"),
    )


def unpack_limits(config: dict[str, Any]) -> UnpackLimits:
    return _pick(UnpackLimits, config.get("unpack_limits", {}))


def prepare_config(config: dict[str, Any]) -> PrepareConfig:
    return _pick(PrepareConfig, config["preprocess"])


def demo_database(config: dict[str, Any], dataset: str) -> DemoDatabase:
    block = dict(config["datasets"][dataset]["demo"])
    if "intensity" in block:
        block["intensity"] = tuple(block["intensity"])
    return _pick(DemoDatabase, block)


def gan_runs(config: dict[str, Any]) -> int:
    """How many training runs of every GAN the study makes (`experiment.gan_runs`, 1 when not given)."""
    return int(config["experiment"].get("gan_runs", 1))


def seed_gan_runs(config: dict[str, Any]) -> dict[str, int]:
    """The GAN run each classifier seed's generated faces come from: seeds dealt out over the runs in the order
    `experiment.seeds` lists them (synthfer.inference.spread_over_runs). Spread, not crossed: crossing would train
    every seed on every run (R times the classifiers), and the test's precision about the method is limited by
    the number of runs, not by seeds per run."""
    from synthfer.arms import gan_run_of_seed

    seeds = [str(s) for s in config["experiment"]["seeds"]]
    return {seed: gan_run_of_seed(i, gan_runs(config)) for i, seed in enumerate(seeds)}


def _run_seed(section: dict[str, Any], gan_run: int) -> dict[str, Any]:
    """A GAN's section with the seed of run `gan_run`: its own seed + gan_run (run 0 is the section as written)."""
    return {**section, "seed": int(section.get("seed", 0)) + gan_run}


def precision(config: dict[str, Any]) -> str:
    """The study's precision switch (`precision:`): `fp32`, the publication setting, trains every GAN and every
    classifier in fp32; `auto` (the default) leaves each to bf16 where the device has bf16 units."""
    return str(config.get("precision", "auto"))


def _trained_in(section: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A training section with `precision: fp32` when the study's switch says so."""
    return {**section, "precision": "fp32"} if precision(config) == "fp32" else section


def stargan_config(config: dict[str, Any], gan_run: int = 0) -> StarGANConfig:
    section = _trained_in(_run_seed(config["stargan"], gan_run), config)
    return _pick(StarGANConfig, section, image_size=config["preprocess"]["image_size"])


def translators(config: dict[str, Any]) -> list[str]:
    """The expression translators to compare (a dimension of the results); StarGAN when not given."""
    return list(config.get("translators", [translators_table.DEFAULT]))


def external_translators(config: dict[str, Any]) -> dict[str, str]:
    """The external arms (`external:`): name -> the dataset of its generated faces."""
    return {name: arm["dataset"] for name, arm in config.get("external", {}).items()}


def trained_translators(config: dict[str, Any]) -> list[str]:
    """The translators this workflow trains (the table's), not the external arms."""
    return [t for t in translators(config) if t not in external_translators(config)]


def cyclegan_config(config: dict[str, Any], variant: str, emotion: str, gan_run: int = 0) -> CycleGANConfig:
    """The Neutral -> `emotion` generator of a CycleGAN-family translator: its config section over the family
    member's defaults (synthfer.translators; ECycleGAN: study 2's dense blocks and perceptual cycle loss)."""
    section = _run_seed({**translators_table.translator(variant).defaults, **config.get(variant, {})}, gan_run)
    section = _trained_in(section, config)
    return _pick(
        CycleGANConfig,
        section,
        variant=variant,
        source=NEUTRAL,
        target=emotion,
        image_size=config["preprocess"]["image_size"],
    )


def check_translator_weights(config: dict[str, Any]) -> None:
    """Files the generative side needs and cannot make stop the run at the start, in one line, rather than
    hours in: a TorchScript identity generator, ImageNet VGG19 weights for a perceptual loss."""
    generate = config.get("generate", {})
    if generate.get("identities") == "torchscript" and not generate.get("torchscript"):
        raise ConfigError(
            "generate.identities: torchscript needs generate.torchscript: the path of your TorchScript generator (z -> image)"
        )
    if generate.get("identities") == "torchscript" and not Path(generate["torchscript"]).is_file():
        raise ConfigError(
            f"generate.torchscript: {generate['torchscript']} not found; export your generator with torch.jit.script/trace and save it there"
        )
    if config.get("stargan_model") and not Path(config["stargan_model"]).is_file():
        raise ConfigError(
            f"stargan_model: {config['stargan_model']} not found; write it with `synthfer import-stargan <checkpoint> --out {config['stargan_model']}`"
        )
    for variant in dict.fromkeys([*trained_translators(config), *config.get("minority", {}).get("translators", [])]):
        if not translators_table.is_per_emotion(variant):
            continue
        cfg = cyclegan_config(config, variant, EMOTIONS[0])
        if cfg.cycle_loss != "perceptual" or cfg.vgg_weights != "imagenet":
            continue
        from synthfer.train.cyclegan import (  # codemap: skip (a config check)
            vgg19_cache_path,
        )  # torch: only where the check needs it (a parse costs ~4 s more)

        if not vgg19_cache_path().exists():
            raise ConfigError(
                f"{variant}: the perceptual cycle loss needs VGG19 ImageNet weights at {vgg19_cache_path()} (not found). "
                f"Put the file there, or set {variant}.vgg_weights: random (untrained VGG) or {variant}.cycle_loss: l1"
            )


def selection_config(config: dict[str, Any]) -> SelectionConfig | None:
    """The selection of generated faces, or None when `selection:` is absent (no selected arms)."""
    from synthfer.selection import SelectionConfig

    return _pick(SelectionConfig, config["selection"]) if "selection" in config else None


def controls(config: dict[str, Any]) -> dict[str, bool]:
    """`controls:` with every switch present (off when not given)."""
    section = config.get("controls", {})
    return {
        name: bool(section.get(name, False))
        for name in ("step_matched", "augmented", "balanced_selection", "oversampled")
    }


def control_arms(config: dict[str, Any]) -> list[str]:
    """The study-1 control arms the config switches on (real-only runs with the budget of each k >= 1)."""
    from synthfer.arms import CONTROL_SWITCHES

    on = controls(config)
    return [arm for switch, arm in CONTROL_SWITCHES.items() if on[switch]]


def arms(config: dict[str, Any]) -> list[str]:
    """Every arm that runs at k >= 1 (synthfer.arms): each translator, its selected faces when selection is on,
    those rebalanced with `controls.balanced_selection`, and the control arms."""
    from synthfer.arms import run_arms

    return run_arms(
        translators(config), "selection" in config, controls(config)["balanced_selection"], control_arms(config)
    )


def minority_settings(config: dict[str, Any]) -> list[str]:
    """Study 2's settings besides no added faces: its translators, and the oversampling control when on."""
    from synthfer.arms import OVERSAMPLED

    if "minority" not in config:
        return []
    return [*config["minority"]["translators"], *([OVERSAMPLED] if controls(config)["oversampled"] else [])]


def minority_config(config: dict[str, Any]) -> MinorityConfig | None:
    """Study 2's cross-validation protocol, or None when `minority:` is absent."""
    return _pick(MinorityConfig, config["minority"]) if "minority" in config else None


def identity_config(config: dict[str, Any]) -> IdentityConfig:
    return _pick(IdentityConfig, config.get("generate", {}))


def identity_gan_config(config: dict[str, Any], gan_run: int = 0) -> IdentityGANConfig:
    section = _trained_in(_run_seed(config["identity_gan"], gan_run), config)
    return _pick(IdentityGANConfig, section, image_size=config["preprocess"]["image_size"])


def baselines(config: dict[str, Any]) -> list[str]:
    """Other classifier architectures trained on real faces only, to compare with (the paper's VGG16)."""
    return list(config["experiment"].get("baselines", []))


def classifier_config(config: dict[str, Any], k: str, arm: str = "real") -> ClassifierConfig:
    """The classifier settings of one run: the common ones, overridden by `per_ratio[k]`; a baseline arm
    (e.g. vgg16) sets the architecture."""
    section = {key: v for key, v in config["classifier"].items() if key != "per_ratio"}
    section.update(config["classifier"].get("per_ratio", {}).get(str(k), {}))
    if arm in baselines(config):
        section["architecture"] = arm
    return _pick(ClassifierConfig, _trained_in(section, config), image_size=config["preprocess"]["image_size"])


def ratio_keys(config: dict[str, Any]) -> list[str]:
    """Every value of the k wildcard: 0 (real only, the baseline every comparison needs), the ratios, and 'syn'."""
    keys = [str(k) for k in sorted({0, *config["experiment"]["ratios"]})]
    if config["experiment"].get("synthetic_only", True):
        keys.append(SYNTHETIC_ONLY)
    return keys


def n_units(config: dict[str, Any]) -> int:
    """Generated units needed: the largest ratio (at least one for the synthetic-only run)."""
    needed = max(config["experiment"]["ratios"])
    if config["experiment"].get("synthetic_only", True):
        needed = max(needed, 1)
    return needed
