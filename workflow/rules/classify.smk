# The paper's experiments: the CNN of Table 1 trained on real + k units of generated faces, one job per
# (arm, k, seed), or per (arm, k) with experiment.stack_seeds. Seed i trains on the faces of GAN run i mod
# experiment.gan_runs (SEED_GAN_RUN). The arm is the translator that made the faces;
# k = 0 (real only) has arm "real" and is shared by every translator; k = syn is synthetic only. Settings of
# one ratio come from classifier.per_ratio[k], so changing them reruns only that ratio.


if config["experiment"].get("stack_seeds", False):

    # every seed of a ratio in one job: a GPU trains the seeds' CNNs at once (torch.func vmap), a CPU one after
    # another with one Python start for them all
    rule train_classifiers_stacked:
        """Every seed of one (arm, k) in one job (experiment.stack_seeds)."""
        input:
            real=store_files("results/real"),
            units=stacked_unit_files,
            code=CODE["train_classifiers_stacked"],
        output:
            model=expand("results/classify/{{arm}}/k{{k}}/seed{seed}/model.pt", seed=SEEDS),
            history=expand("results/classify/{{arm}}/k{{k}}/seed{seed}/history.csv", seed=SEEDS),
        log:
            "results/logs/train_classifier/{arm}_k{k}_stacked.log",
        benchmark:
            "results/benchmarks/train_classifier/{arm}_k{k}_stacked.tsv"
        priority: classifier_priority
        conda:
            CONDA_ENV
        threads: 1
        resources:
            gpu=1,
            mem_mb=8000,
            runtime=runtime("classifier", 120 * len(SEEDS)),
        params:
            classifier=lambda wc: asdict(sfconfig.classifier_config(config, wc.k, wc.arm)),
            seeds=[int(s) for s in SEEDS],
            seed_gan_runs=lambda wc: seeds_gan_runs(wc.arm),
            unit_gan_runs=stacked_unit_gan_runs,
            device=DEVICE,
            preprocess=asdict(sfconfig.prepare_config(config)),  # kept in model.pt for `synthfer predict`
        script:
            "../scripts/train_classifiers_stacked.py"

    rule evaluate_classifiers_stacked:
        """Predictions of every seed's classifier of one (arm, k) on every test set, in one job."""
        input:
            model=expand("results/classify/{{arm}}/k{{k}}/seed{seed}/model.pt", seed=SEEDS),
            real=store_files("results/real"),
            units=stacked_unit_files,
            cross=face_store_files(CROSS_TEST),
            code=CODE["evaluate_classifiers_stacked"],
        output:
            predictions=expand("results/classify/{{arm}}/k{{k}}/seed{seed}/predictions.csv", seed=SEEDS),
        log:
            "results/logs/evaluate_classifier/{arm}_k{k}_stacked.log",
        conda:
            CONDA_ENV
        threads: 1
        resources:
            gpu=1,
            mem_mb=4000,
            runtime=runtime("evaluate", 30 * len(SEEDS)),
        params:
            cross_test=CROSS_TEST,
            seeds=[int(s) for s in SEEDS],
            seed_gan_runs=lambda wc: seeds_gan_runs(wc.arm),
            unit_gan_runs=stacked_unit_gan_runs,
            device=DEVICE,
        script:
            "../scripts/evaluate_classifiers_stacked.py"

else:

    rule train_classifier:
        """The paper's CNN on real faces plus one arm's k units, one seed."""
        input:
            real=store_files("results/real"),
            units=unit_files,
            code=CODE["train_classifier"],
        output:
            model="results/classify/{arm}/k{k}/seed{seed}/model.pt",
            history="results/classify/{arm}/k{k}/seed{seed}/history.csv",
        log:
            "results/logs/train_classifier/{arm}_k{k}_seed{seed}.log",
        benchmark:
            "results/benchmarks/train_classifier/{arm}_k{k}_seed{seed}.tsv"
        priority: classifier_priority
        conda:
            CONDA_ENV
        threads: 1
        resources:
            gpu=1,
            mem_mb=4000,
            runtime=runtime("classifier", 120),
        params:
            classifier=lambda wc: asdict(sfconfig.classifier_config(config, wc.k, wc.arm)),
            gan_run=lambda wc: seed_gan_run(wc.arm, wc.seed),
            device=DEVICE,
            preprocess=asdict(sfconfig.prepare_config(config)),  # kept in model.pt for `synthfer predict`
        script:
            "../scripts/train_classifier.py"

    rule evaluate_classifier:
        """Predictions of one classifier on every test set, kept per face."""
        input:
            model="results/classify/{arm}/k{k}/seed{seed}/model.pt",
            real=store_files("results/real"),
            units=unit_files,
            cross=face_store_files(CROSS_TEST),
            code=CODE["evaluate_classifier"],
        output:
            predictions="results/classify/{arm}/k{k}/seed{seed}/predictions.csv",
        log:
            "results/logs/evaluate_classifier/{arm}_k{k}_seed{seed}.log",
        conda:
            CONDA_ENV
        threads: 1
        resources:
            gpu=1,
            mem_mb=4000,
            runtime=runtime("evaluate", 30),
        params:
            cross_test=CROSS_TEST,
            gan_run=lambda wc: seed_gan_run(wc.arm, wc.seed),
            device=DEVICE,
        script:
            "../scripts/evaluate_classifier.py"
