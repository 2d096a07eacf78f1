# The generative side: the expression translators (StarGAN, CycleGAN, ECycleGAN) and the identity source (a DCGAN on neutral faces),
# each trained experiment.gan_runs times ({gan_run}: its seed + gan_run).
# Progress (loss CSV, loss plot, sample grids) goes to a work folder that is not a declared output,
# so it survives a failed job.
#
# One thread each: a GPU loop needs no more, and on a CPU two GANs side by side on two cores finish sooner
# than one after the other on two threads each (at the demo's size a second thread gains StarGAN 1.58x and
# CycleGAN 1.46x on a quiet machine: scripts/job_threads.py). A CPU-only run at the paper's size wants more:
# --set-threads train_stargan=8 (the SLURM profile sets 8).


rule train_stargan:
    """Train the StarGAN expression translator on the GAN-training faces."""
    input:
        faces=GAN_STORE_FILES,
        design=ancient(DESIGN_CHECK),
        code=CODE["train_stargan"],
    output:
        model="results/gan/stargan/gan_run{gan_run}/generator.pt",
        losses="results/gan/stargan/gan_run{gan_run}/losses.csv",
    log:
        "results/logs/train_stargan/gan_run{gan_run}.log",
    benchmark:
        "results/benchmarks/train_stargan/gan_run{gan_run}.tsv"
    priority: PRIORITY["gan"]
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=runtime("gan", 24 * 60),
    params:
        stargan=lambda wc: asdict(sfconfig.stargan_config(config, int(wc.gan_run))),
        device=DEVICE,
    script:
        "../scripts/train_stargan.py"


rule train_identity_gan:
    """Train the identity source (DCGAN or StyleGAN-style) on neutral GAN-training faces."""
    input:
        faces=GAN_STORE_FILES,
        design=ancient(DESIGN_CHECK),
        code=CODE["train_identity_gan"],
    output:
        model="results/gan/identity/gan_run{gan_run}/generator.pt",
        losses="results/gan/identity/gan_run{gan_run}/losses.csv",
    log:
        "results/logs/train_identity_gan/gan_run{gan_run}.log",
    benchmark:
        "results/benchmarks/train_identity_gan/gan_run{gan_run}.tsv"
    priority: PRIORITY["gan"]
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=runtime("gan", 8 * 60),
    params:
        identity_gan=lambda wc: asdict(sfconfig.identity_gan_config(config, int(wc.gan_run))),
        device=DEVICE,
    script:
        "../scripts/train_identity_gan.py"


rule restrict_gan_faces:
    """A dataset that is also a real training set reaches the GANs with its training-split subjects only."""
    input:
        faces=lambda wc: store_files(face_store(wc.dataset)),
        split="results/real/faces.csv",
        code=CODE["restrict_gan_faces"],
    output:
        images="results/gan_faces/{dataset}/faces.npz",
        table="results/gan_faces/{dataset}/faces.csv",
    log:
        "results/logs/restrict_gan_faces/{dataset}.log",
    wildcard_constraints:
        dataset=one_of(SHARED_WITH_GANS),
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    script:
        "../scripts/restrict_gan_faces.py"


# CycleGAN / ECycleGAN (translators: [cyclegan, ecyclegan]): one unpaired generator per target emotion,
# Neutral -> emotion, each its own job.
rule train_cyclegan:
    """Train one Neutral -> emotion CycleGAN or ECycleGAN generator."""
    input:
        faces=GAN_STORE_FILES,
        design=ancient(DESIGN_CHECK),
        code=CODE["train_cyclegan"],
    output:
        model="results/gan/{variant}/gan_run{gan_run}/{emotion}/generator.pt",
        losses="results/gan/{variant}/gan_run{gan_run}/{emotion}/losses.csv",
    log:
        "results/logs/train_cyclegan/{variant}_gan_run{gan_run}_{emotion}.log",
    benchmark:
        "results/benchmarks/train_cyclegan/{variant}_gan_run{gan_run}_{emotion}.tsv"
    priority: PRIORITY["gan"]
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=runtime("gan", 24 * 60),
    params:
        cyclegan=lambda wc: asdict(sfconfig.cyclegan_config(config, wc.variant, wc.emotion, int(wc.gan_run))),
        device=DEVICE,
    script:
        "../scripts/train_cyclegan.py"
