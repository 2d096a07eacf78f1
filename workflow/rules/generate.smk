# The balanced synthetic set, one unit per job, translator and GAN run (that run's translator and identity GAN):
# new identities (as many per split as the real set has subjects), each with all six emotions. Every translator
# gets the same identities. Adding a larger ratio only generates the new units.


rule generate_faces:
    """One unit of new identities, each translated into the six emotions by one translator."""
    input:
        real="results/real/faces.csv",
        identity_inputs=lambda wc: identity_inputs(wc.gan_run),
        translator_models=lambda wc: translator_models(wc.translator, wc.gan_run),
        code=CODE["generate_faces"],
    output:
        images="results/generated/{translator}/gan_run{gan_run}/unit{unit}/faces.npz",
        table="results/generated/{translator}/gan_run{gan_run}/unit{unit}/faces.csv",
    log:
        "results/logs/generate_faces/{translator}_gan_run{gan_run}_unit{unit}.log",
    benchmark:
        "results/benchmarks/generate_faces/{translator}_gan_run{gan_run}_unit{unit}.tsv"
    wildcard_constraints:
        translator=one_of(TRAINED),
    priority: PRIORITY["release"]
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=runtime("generate", 60),
    params:
        identities=asdict(sfconfig.identity_config(config)),
        image_size=config["preprocess"]["image_size"],
        eyes=[config["preprocess"].get("eye_distance", 0.38), config["preprocess"].get("eye_height", 0.38)],
        device=DEVICE,
    script:
        "../scripts/generate_faces.py"


# Selection (config `selection:`): only the generated faces whose emotion the real-only classifiers confirm,
# per unit; classifier runs on them form the arm "<translator>-selected".
rule select_generated:
    """Keep the generated faces of one unit that the real-only classifiers confirm (selection)."""
    input:
        models=expand("results/classify/real/k0/seed{seed}/model.pt", seed=SEEDS),
        generated=store_files("results/generated/{translator}/gan_run{gan_run}/unit{unit}"),
        code=CODE["select_generated"],
    output:
        images="results/selected/{translator}/gan_run{gan_run}/unit{unit}/faces.npz",
        table="results/selected/{translator}/gan_run{gan_run}/unit{unit}/faces.csv",
        counts="results/selected/{translator}/gan_run{gan_run}/unit{unit}/counts.csv",
    log:
        "results/logs/select_generated/{translator}_gan_run{gan_run}_unit{unit}.log",
    priority: PRIORITY["release"]
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=runtime("generate", 30),
    params:
        selection=lambda wc: asdict(SELECTION),
        device=DEVICE,
    script:
        "../scripts/select_generated.py"


# Balanced selection (`controls.balanced_selection`): the selected faces resampled to the unselected unit's
# counts per split and emotion; classifier runs on them form the arm "<translator>-selected-balanced".
rule balance_selected:
    """Resample one unit's selected faces to the unselected class counts (controls.balanced_selection)."""
    input:
        selected=store_files("results/selected/{translator}/gan_run{gan_run}/unit{unit}"),
        unselected="results/generated/{translator}/gan_run{gan_run}/unit{unit}/faces.csv",
        code=CODE["balance_selected"],
    output:
        images="results/balanced/{translator}/gan_run{gan_run}/unit{unit}/faces.npz",
        table="results/balanced/{translator}/gan_run{gan_run}/unit{unit}/faces.csv",
        counts="results/balanced/{translator}/gan_run{gan_run}/unit{unit}/counts.csv",
    log:
        "results/logs/balance_selected/{translator}_gan_run{gan_run}_unit{unit}.log",
    priority: PRIORITY["release"]
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime("generate", 15),
    script:
        "../scripts/balance_selected.py"


# An external arm (`external:`): another generator's faces, prepared like a dataset, dealt into the study's units
# (complete identities only, as many per split as the real set has subjects); they then go where a translator's
# generated units go. One set of faces: GAN run 0.
rule assign_external_faces:
    """Deal an external generator's complete identities into units and splits, like a translator's units."""
    input:
        faces=lambda wc: store_files(face_store(EXTERNAL[wc.external])),
        real="results/real/faces.csv",
        code=CODE["assign_external_faces"],
    output:
        units=[
            f"results/generated/{{external}}/gan_run0/unit{u}/{name}"
            for u in range(N_UNITS)
            for name in ("faces.npz", "faces.csv")
        ],
        left_out="results/generated/{external}/left_out.csv",
    log:
        "results/logs/assign_external_faces/{external}.log",
    priority: PRIORITY["release"]
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        seed=lambda wc: config["external"][wc.external].get("seed", 0),
    script:
        "../scripts/assign_external_faces.py"
