# Datasets in: render the demo databases, crop/align every dataset into a face store, split by subject.


rule render_demo_dataset:
    """Draw one demo database with the procedural face renderer (loader: demo)."""
    input:
        code=CODE["render_demo_dataset"],
    output:
        raw=directory("results/raw/{dataset}"),
    log:
        "results/logs/render_demo_dataset/{dataset}.log",
    wildcard_constraints:
        dataset=one_of(DEMO_DATASETS),
    conda:
        CONDA_ENV
    threads: 2
    params:
        demo=lambda wc: asdict(sfconfig.demo_database(config, wc.dataset)),
    script:
        "../scripts/render_demo_dataset.py"


rule fetch_dataset:
    """Download (url + sha256) or unpack (archive) one dataset into results/raw."""
    input:
        # no code input: a fix in the download code never fetches a dataset again (--forcerun fetch_dataset does)
        # a local archive is an input, and its size and mtime a param: replacing it unpacks it again
        archive=lambda wc: config["datasets"][wc.dataset].get("archive", []),
    output:
        raw=directory("results/raw/{dataset}"),
    log:
        "results/logs/fetch_dataset/{dataset}.log",
    wildcard_constraints:
        dataset=one_of(FETCHED_DATASETS),
    localrule: True
    conda:
        CONDA_ENV
    params:
        url=lambda wc: config["datasets"][wc.dataset].get("url"),
        archive_stamp=lambda wc: file_stamp(config["datasets"][wc.dataset].get("archive")),
        sha256=lambda wc: config["datasets"][wc.dataset].get("sha256"),
        limits=asdict(sfconfig.unpack_limits(config)),
    script:
        "../scripts/fetch_dataset.py"


rule prepare_faces:
    """Read one dataset through its loader, align, crop and grayscale its faces; list every rejected file."""
    input:
        raw=raw_dataset,
        labels=lambda wc: config["datasets"][wc.dataset].get("labels", []),
        code=CODE["prepare_faces"],
    output:
        images="results/faces/{dataset}/faces.npz",
        table="results/faces/{dataset}/faces.csv",
        rejected="results/faces/{dataset}/rejected.csv",
    log:
        log="results/logs/prepare_faces/{dataset}.log",
        rejected_copy="results/logs/prepare_faces/{dataset}.rejected.csv",  # kept when too many are rejected and the job fails
    conda:
        CONDA_ENV
    threads: 2
    resources:
        runtime=runtime("prepare", 120),
    params:
        loader=lambda wc: config["datasets"][wc.dataset]["loader"],
        options=lambda wc: config["datasets"][wc.dataset].get("options", {}),
        preprocess=lambda wc: asdict(sfconfig.prepare_config(config)),
    script:
        "../scripts/prepare_faces.py"


# Checked as soon as the face tables exist, before any GAN job: split sizes against the subjects, the
# emotions each role holds, study 2's folds, the user's TorchScript generator. GAN jobs take its output as
# ancient(), so that a rerun of the check alone never retrains them.
rule check_design:
    """Check the design against the prepared face tables before any GAN trains."""
    input:
        tables=[f"{face_store(d)}/faces.csv" for d in DESIGN_DATASETS],
        torchscript_model=[TORCHSCRIPT[0]] if TORCHSCRIPT else [],
        # the check's own code only: a change to a file the result rules share reruns those, not the check,
        # which they take as ancient() input (Snakemake 9.27 leaves their jobs out of a run that reruns it)
        code=codemap.own_files(CODE, "check_design"),
    output:
        checked=DESIGN_CHECK,
    log:
        "results/logs/check_design.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        datasets=DESIGN_DATASETS,
        roles={role: config["roles"][role] for role in ("real_train", "gan_train", "cross_test")},
        split={"val": config["split"]["val"], "test": config["split"]["test"]},
        generating=bool(GENERATING),
        allow_missing_emotions=config["experiment"].get("allow_missing_emotions", False),
        minority=MINORITY_PLAN,
        torchscript=TORCHSCRIPT,
    script:
        "../scripts/check_design.py"


rule split_subjects:
    """Pool the real training datasets and split them by subject."""
    input:
        faces=face_store_files(REAL_TRAIN),
        design=ancient(DESIGN_CHECK),
        code=CODE["split_subjects"],
    output:
        images="results/real/faces.npz",
        table="results/real/faces.csv",
    log:
        "results/logs/split_subjects.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        val=config["split"]["val"],
        test=config["split"]["test"],
        seed=config["split"].get("seed", 0),
        stratify=config["split"].get("stratify", True),
        allow_duplicates=config["split"].get("allow_duplicates", False),
    script:
        "../scripts/split_subjects.py"


rule filter_ambiguous_faces:
    """Drop the faces whose label out-of-fold classifiers find least likely (filter_ambiguous)."""
    input:
        faces=store_files("results/faces/{dataset}"),
        code=CODE["filter_ambiguous_faces"],
    output:
        images="results/faces/{dataset}/unambiguous/faces.npz",
        table="results/faces/{dataset}/unambiguous/faces.csv",
        confidence="results/faces/{dataset}/unambiguous/confidence.csv",
        counts="results/faces/{dataset}/unambiguous/counts.csv",
    log:
        "results/logs/filter_ambiguous_faces/{dataset}.log",
    benchmark:
        "results/benchmarks/filter_ambiguous_faces/{dataset}.tsv"
    wildcard_constraints:
        dataset=one_of(FILTERED),
    conda:
        CONDA_ENV
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=runtime("classifier", 4 * 60),
    params:
        ambiguity=lambda wc: asdict(sfconfig.ambiguity_filter_config(config, wc.dataset)),
        device=DEVICE,
    script:
        "../scripts/filter_ambiguous_faces.py"
