# Validation of config/config.yaml and the input functions every stage uses.
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from snakemake.exceptions import WorkflowError

# this checkout's library, for the parse as for the jobs (below): never another copy installed in the environment
ROOT = Path(workflow.basedir).parent  # the checkout: workflow/ (this Snakefile's folder), src/, config/
sys.path.insert(0, str(ROOT / "src"))

from synthfer import arms, cluster
from synthfer import codemap
from synthfer import config as sfconfig
from synthfer import translators as translators_table
from synthfer.data.store import STORE_FILES

try:
    for _configfile in workflow.overwrite_configfiles or ["config/config.yaml"]:  # the files Snakemake read
        if Path(_configfile).is_file():
            sfconfig.refuse_duplicate_keys(_configfile)
    sfconfig.validate_config(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")
    sfconfig.check_translator_weights(config)
except sfconfig.ConfigError as error:
    raise WorkflowError(str(error)) from None

# jobs import the synthfer library from this checkout, whichever environment runs them (venv, conda, SLURM)
_pythonpath = [str(ROOT / "src"), *dict(os.environ).get("PYTHONPATH", "").split(os.pathsep)]
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, _pythonpath)))
CONDA_ENV = "../envs/synthfer.yaml"

# The SLURM profile asks for SIGUSR1 some minutes before a job's time limit (`--signal=USR1@...`), and SLURM
# sends it to every process of the job step: this Snakemake process, the shell it starts and the job's Python.
# Ignored here (and so in the children, which inherit it), it kills none of them; the GAN loops install their
# own handler and checkpoint on it.
signal.signal(signal.SIGUSR1, signal.SIG_IGN)

MAX_RUNTIME = config.get("max_runtime", {})


def runtime(family, base):
    """A rule's `runtime` (minutes): `base` on the first attempt, more on a retry unless the job resumes
    (GANs), never above `max_runtime.<family>` (synthfer.cluster)."""
    return lambda wc, attempt: cluster.runtime_minutes(family, base, attempt, MAX_RUNTIME)


# When more jobs are ready than cores (or GPUs) are free, Snakemake starts the highest priority first. The
# order follows the study's critical path: the GANs gate every generated face, the real-only classifiers gate
# the selection, generation and selection take seconds and release the most work; then the classifier jobs
# with the longest epochs (most units) start first, so that the run ends on short jobs rather than one long
# job on one core while the others idle. The order changes no result. 2-core demo: see README, Performance.
PRIORITY = {"gan": 100, "real_only": 90, "release": 80}


def classifier_priority(wc):
    """Real only (k = 0) before the others, then by k, largest first; synthetic only (one unit) last."""
    if wc.k == "0":
        return PRIORITY["real_only"]
    return min(10 + int(wc.k), PRIORITY["release"] - 1) if wc.k.isdigit() else 5


DATASETS = list(config["datasets"])
DEMO_DATASETS = sfconfig.rendered_datasets(config)
FETCHED_DATASETS = sfconfig.fetched_datasets(config)
REAL_TRAIN = config["roles"]["real_train"]
GAN_TRAIN = config["roles"]["gan_train"]
CROSS_TEST = config["roles"]["cross_test"]
RATIOS = sfconfig.ratio_keys(config)
SEEDS = [str(s) for s in config["experiment"]["seeds"]]
# every GAN trains experiment.gan_runs times (run r with its seed + r); classifier seed i trains on the faces of
# run i mod R (sfconfig.seed_gan_runs), so that the report can treat the GAN run as a random unit
GAN_RUNS = [str(r) for r in range(sfconfig.gan_runs(config))]
SEED_GAN_RUN = sfconfig.seed_gan_runs(config)
N_UNITS = sfconfig.n_units(config)  # 0: the study trains on real faces only and generates nothing
DEVICE = config.get("device", "auto")
FILTERED = sfconfig.filtered_datasets(config)
TRANSLATORS = sfconfig.translators(config)
# translators whose generated faces study 1 uses: none when it trains on real faces only (ratios [0], no
# synthetic-only run), so that such a config trains no GAN for it (study 2 may still train its own)
GENERATING = TRANSLATORS if N_UNITS else []
# external arms (`external:`): faces another generator made, read as a dataset and dealt into units; every
# other translator is trained here
EXTERNAL = sfconfig.external_translators(config)
TRAINED = sfconfig.trained_translators(config)
CYCLE_TRANSLATORS = [t for t in TRAINED if translators_table.is_per_emotion(t)]
EMOTIONS = list(sfconfig.EMOTIONS)
REAL_ONLY = arms.REAL_ONLY  # the arm of k = 0: no translator, shared by every comparison
ARMS = sfconfig.arms(config)  # translators, their -selected (-balanced) faces, the control arms (synthfer.arms)
arm_kind, translator_of = arms.kind, arms.translator_of
MINORITY_SETTINGS = sfconfig.minority_settings(config)  # study 2: translators, and real-oversampled when on
SELECTION = sfconfig.selection_config(config)
BASELINES = sfconfig.baselines(config)  # other architectures on real faces only (vgg16)
MINORITY = sfconfig.minority_config(config)  # study 2's protocol, or None


# what check_design reads: every dataset of a role or of study 2, the TorchScript generator if one is used
DESIGN_DATASETS = list(
    dict.fromkeys([*REAL_TRAIN, *GAN_TRAIN, *CROSS_TEST, *([config["minority"]["dataset"]] if MINORITY else [])])
)
DESIGN_CHECK = "results/checks/design.txt"
MINORITY_PLAN = (
    {"dataset": config["minority"]["dataset"], "n_added": max(config["minority"]["n_added"]), **asdict(MINORITY)}
    if MINORITY
    else None
)
_identity_source = sfconfig.identity_config(config)
TORCHSCRIPT = (
    [config["generate"]["torchscript"], _identity_source.z_dim]
    if _identity_source.identities == "torchscript" and GENERATING
    else None
)


def one_of(names):
    """A wildcard constraint matching exactly these names (and nothing when there are none)."""
    return "|".join(names) if names else "(?!)"


wildcard_constraints:
    dataset="|".join(DATASETS),
    k="[0-9]+|syn",
    seed="[0-9]+",
    unit="[0-9]+",
    gan_run="[0-9]+",
    translator=one_of(TRANSLATORS),
    external=one_of(list(EXTERNAL)),
    arm=one_of([REAL_ONLY, *BASELINES, *ARMS]),
    variant=one_of(translators_table.PER_EMOTION),
    emotion=one_of(EMOTIONS),
    mtranslator=one_of(["none", *MINORITY_SETTINGS]),
    n="[0-9]+",


# The library files each rule's step runs (synthfer.codemap, read from the imports), as its `code` input:
# editing the classifier code reruns the classifier jobs and what follows them, never GAN training. Shared
# helpers (io, logs, runtime, seam, gpus) are left out: a fix there does not invalidate results (force with
# --forcerun <rule> when it does).
CODE = codemap.code_map(ROOT / "src", Path(workflow.basedir) / "scripts", relative_to=Path.cwd())

TARGET_EFFECT = config.get("report", {}).get("target_effect", 0.05)  # the gain worth detecting (accuracy)


def raw_dataset(wildcards):
    """Where a dataset's files are: the render output for demo datasets, the user's path otherwise."""
    ds = config["datasets"][wildcards.dataset]
    if wildcards.dataset in DEMO_DATASETS or wildcards.dataset in FETCHED_DATASETS:
        return f"results/raw/{wildcards.dataset}"
    if not Path(ds["path"]).exists():
        raise WorkflowError(
            f"dataset {wildcards.dataset!r} ({ds['loader']}) not found at {ds['path']}: it cannot be downloaded by the "
            f"workflow; request it from its authors, unpack it there, or change datasets.{wildcards.dataset}.path "
            "(docs/datasets.md)"
        )
    return ds["path"]


def file_stamp(path):
    """(size, mtime in ns) of a user's file, or None: as a param it makes Snakemake notice a replaced file
    even when the copy kept the old mtime."""
    if not path or not Path(path).exists():
        return None
    stat = Path(path).stat()
    return [stat.st_size, stat.st_mtime_ns]


def face_store(name):
    """The face store a dataset is used from: its unambiguous part when `filter_ambiguous` is set."""
    return f"results/faces/{name}/unambiguous" if name in FILTERED else f"results/faces/{name}"


def store_files(folder):
    """The files of one face store: a rule names a store by its files, so that Snakemake tracks both."""
    return [f"{folder}/{name}" for name in STORE_FILES]


def face_store_files(names):
    return [f for n in names for f in store_files(face_store(n))]


# A dataset in both real_train and gan_train reaches the GANs with its training-split subjects only, so that no
# GAN (nor a real_neutral identity) ever sees a validation or test subject (restrict_gan_faces).
SHARED_WITH_GANS = [d for d in GAN_TRAIN if d in REAL_TRAIN]


def gan_store(name):
    """The face store the GANs learn from for one gan_train dataset."""
    return f"results/gan_faces/{name}" if name in SHARED_WITH_GANS else face_store(name)


GAN_STORES = [gan_store(d) for d in GAN_TRAIN]
GAN_STORE_FILES = [f"{s}/{f}" for s in GAN_STORES for f in ("faces.npz", "faces.csv")]


# StarGAN's generator: trained by train_stargan, or the user's (`stargan_model:`), which then is never trained
def stargan_model(gan_run):
    return config.get("stargan_model") or f"results/gan/stargan/gan_run{gan_run}/generator.pt"


def translator_models(translator, gan_run):
    """The model files of one translator's GAN run: StarGAN's generator, or one generator per emotion
    (synthfer.translators)."""
    if not translators_table.is_per_emotion(translator):
        return [stargan_model(gan_run)]
    return [f"results/gan/{translator}/gan_run{gan_run}/{e}/generator.pt" for e in EMOTIONS]


def identity_inputs(gan_run):
    """What the identity source reads: the identity GAN of this run, the user's TorchScript generator, or the
    GAN-training faces."""
    source = sfconfig.identity_config(config).identities
    if source == "gan":
        return [f"results/gan/identity/gan_run{gan_run}/generator.pt"]
    if source == "torchscript":
        return [config["generate"]["torchscript"]]
    return GAN_STORE_FILES


def minority_translator_models(translator):
    """Study 2 needs only the Neutral -> target generator of a translator (nothing for the baseline), of GAN run 0:
    its cross-validation is conditional on that run."""
    if translator in ("none", arms.OVERSAMPLED):
        return []
    if not translators_table.is_per_emotion(translator):
        return [stargan_model(0)]
    return [f"results/gan/{translator}/gan_run0/{MINORITY.target}/generator.pt"]


def minority_runs():
    """Every cross-validation job: no added faces once, then each translator at each n."""
    m = config["minority"]
    return ["results/minority/none/n0/folds.csv"] + [
        f"results/minority/{t}/n{n}/folds.csv" for t in MINORITY_SETTINGS for n in m["n_added"]
    ]


def units_for(arm, k, gan_run):
    """Generated units a run uses: units 0..k-1 of its translator's GAN run (selected or balanced for those arms);
    one unit for synthetic only; none for real only. A control arm reads the first translator's units (of run 0)
    only to take their size as its budget (synthfer.arms)."""
    n = arms.units_of(k)
    kind = arm_kind(arm)
    if n and kind in ("real", "baseline"):
        raise WorkflowError(
            f"results/classify/{arm}/ holds k = 0 only; k = {k} runs live under a translator's or a control's name"
        )
    if kind == "control":
        return [f"results/generated/{GENERATING[0]}/gan_run0/unit{u}" for u in range(n)]
    folder = {"selected": "selected", "balanced": "balanced"}.get(kind, "generated")
    return [f"results/{folder}/{translator_of(arm)}/gan_run{gan_run}/unit{u}" for u in range(n)]


def gan_runs_of(translator):
    """The GAN runs a translator's faces come in: every run of a trained one, the one set of an external arm."""
    return ["0"] if translator in EXTERNAL else GAN_RUNS


def seed_gan_run(arm, seed):
    """The GAN run whose faces one seed of an arm trains on, or None when the arm trains on none (real only,
    baselines, controls: their runs do not depend on a GAN). An external arm has one set of faces: run 0."""
    if arm_kind(arm) in ("real", "baseline", "control"):
        return None
    return 0 if translator_of(arm) in EXTERNAL else SEED_GAN_RUN[str(seed)]


def _store_files_of(units):
    return [f"{d}/{name}" for d in units for name in ("faces.npz", "faces.csv")]


def unit_files(wildcards):
    """The files of the units one seed's run uses (train_classifier, evaluate_classifier)."""
    return _store_files_of(units_for(wildcards.arm, wildcards.k, seed_gan_run(wildcards.arm, wildcards.seed) or 0))


def seeds_gan_runs(arm):
    """Each seed's GAN run, in the order of SEEDS (None for arms without generated faces)."""
    return [seed_gan_run(arm, s) for s in SEEDS]


def stacked_units(arm, k):
    """(unit store folder, GAN run) of every unit the seeds of one (arm, k) use, run by run."""
    runs = sorted({r or 0 for r in seeds_gan_runs(arm)})
    return [(u, r) for r in runs for u in units_for(arm, k, r)]


def stacked_unit_files(wildcards):
    """The files of every unit the seeds of one (arm, k) use (train/evaluate_classifiers_stacked)."""
    return _store_files_of([u for u, _ in stacked_units(wildcards.arm, wildcards.k)])


def stacked_unit_gan_runs(wildcards):
    """The GAN run of each file of stacked_unit_files, in its order."""
    return [r for _, r in stacked_units(wildcards.arm, wildcards.k) for _ in ("faces.npz", "faces.csv")]


def runs():
    """Every classifier run as (arm, k): real only once, then each generated arm's ratios and synthetic only,
    and each control at every ratio k >= 1 (it has no synthetic-only run: it is real faces)."""
    mixed = [k for k in RATIOS if k != "0"]
    return (
        [(REAL_ONLY, "0")]
        + [(b, "0") for b in BASELINES]
        + [(a, k) for a in ARMS for k in mixed if arm_kind(a) != "control" or arms.is_mixed(k)]
    )


def run_files(name):
    return [f"results/classify/{arm}/k{k}/seed{seed}/{name}" for arm, k in runs() for seed in SEEDS]


def report_outputs():
    # DESIGN_CHECK is a target of its own: when only the check must rerun (its code or settings changed), the
    # jobs that take it as ancient() input would otherwise be left out of that run by Snakemake (9.27), missing
    # outputs included, and a second run would be needed
    return [
        DESIGN_CHECK,
        "results/report/metrics.csv",
        "results/report/metrics_summary.csv",
        "results/report/paired_gains.csv",
        "results/report/table2.csv",
        "results/report/table3.csv",
        "results/report/accuracy_vs_ratio.png",
        "results/report/per_class_metrics.png",
        "results/report/confusion",
        *[f"results/report/samples_{t}.png" for t in GENERATING],
        "results/report/gan_run_gains.csv",
        "results/report/generated_fidelity.csv",
        "results/report/quality.csv",
        "results/report/selection_counts.csv",
        *(["results/report/minority.csv", "results/report/minority_gains.csv"] if MINORITY else []),
        "results/report/summary.md",
    ]
