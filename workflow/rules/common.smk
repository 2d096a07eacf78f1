# Validation of config.yaml and the input functions every stage uses.
import os
from dataclasses import asdict
from pathlib import Path

from snakemake.exceptions import WorkflowError

from synthfer import config as sfconfig

try:
    sfconfig.validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")
except sfconfig.ConfigError as error:
    raise WorkflowError(str(error)) from None

# jobs import the synthfer library from this checkout, whichever environment runs them (venv, conda, SLURM)
_pythonpath = [str(Path(workflow.basedir) / "src"), *dict(os.environ).get("PYTHONPATH", "").split(os.pathsep)]
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, _pythonpath)))
CONDA_ENV = "../../envs/synthfer.yaml"

DATASETS = list(config["datasets"])
DEMO_DATASETS = sfconfig.rendered_datasets(config)
FETCHED_DATASETS = sfconfig.fetched_datasets(config)
REAL_TRAIN = config["roles"]["real_train"]
GAN_TRAIN = config["roles"]["gan_train"]
CROSS_TEST = config["roles"]["cross_test"]
RATIOS = sfconfig.ratio_keys(config)
SEEDS = [str(s) for s in config["experiment"]["seeds"]]
N_UNITS = sfconfig.n_units(config)
DEVICE = config.get("device", "auto")
FILTERED = sfconfig.filtered_datasets(config)


wildcard_constraints:
    dataset="|".join(DATASETS),
    k="[0-9]+|syn",
    seed="[0-9]+",
    unit="[0-9]+",


SRC = Path(workflow.basedir) / "src" / "synthfer"


def _code(*modules):
    return [str(SRC / m) for m in modules]


# The library modules each step runs, as inputs: editing the classifier code reruns the classifier jobs
# and what follows them, never GAN training. Shared helpers (io, logs, runtime) are left out on purpose:
# a fix there does not invalidate results (force with --forcerun <rule> when it does).
CODE = {
    "render": _code("data/render.py", "data/demo.py"),
    "prepare": _code("data/loaders.py", "data/real_loaders.py", "data/records.py", "data/prepare.py", "data/align.py", "data/detect.py", "steps/data.py"),
    "split": _code("data/splits.py", "steps/data.py"),
    "filter": _code("ambiguity.py", "steps/filter.py", "models/classifier.py", "train/classifier.py"),
    "stargan": _code("models/stargan.py", "train/stargan.py", "train/resume.py", "steps/gan.py"),
    "identity": _code("models/identity_gan.py", "train/identity_gan.py", "train/resume.py", "steps/gan.py"),
    "generate": _code("generate.py", "steps/generate.py"),
    "classifier": _code("models/classifier.py", "train/classifier.py", "experiment.py", "steps/classify.py"),
    "report": _code("report.py", "plots.py", "metrics.py"),
    "quality": _code("quality.py"),
}


def raw_dataset(wildcards):
    """Where a dataset's files are: the render output for demo datasets, the user's path otherwise."""
    ds = config["datasets"][wildcards.dataset]
    if wildcards.dataset in DEMO_DATASETS or wildcards.dataset in FETCHED_DATASETS:
        return f"results/raw/{wildcards.dataset}"
    if not Path(ds["path"]).exists():
        raise WorkflowError(
            f"dataset {wildcards.dataset!r} ({ds['loader']}) not found at {ds['path']}: it cannot be downloaded by the "
            f"workflow; request it from its authors, unpack it there, or change datasets.{wildcards.dataset}.path "
            "(README.md, 'Bringing real data')"
        )
    return ds["path"]


def face_store(name):
    """The face store a dataset is used from: its unambiguous part when `filter_ambiguous` is set."""
    return f"results/faces/{name}/unambiguous" if name in FILTERED else f"results/faces/{name}"


def face_store_files(names):
    return [f"{face_store(n)}/{f}" for n in names for f in ("faces.npz", "faces.csv")]


def one_of(names):
    """A wildcard constraint matching exactly these names (and nothing when there are none)."""
    return "|".join(names) if names else "(?!)"


def units_for(k):
    """Generated units a ratio trains on: units 0..k-1; one unit for the synthetic-only run."""
    n = 1 if k == "syn" else int(k)
    return [f"results/generated/unit{u}" for u in range(n)]


def unit_files(wildcards):
    return [f"{d}/{name}" for d in units_for(wildcards.k) for name in ("faces.npz", "faces.csv")]


def report_outputs():
    return [
        "results/report/metrics.csv",
        "results/report/metrics_summary.csv",
        "results/report/paired_gains.csv",
        "results/report/accuracy_vs_ratio.png",
        "results/report/confusion",
        "results/report/samples.png",
        "results/report/generated_fidelity.csv",
        "results/report/quality.csv",
        "results/report/summary.md",
    ]
