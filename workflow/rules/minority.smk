# Study 2 (config `minority:`): n translated faces of one emotion added to a real set, judged by repeated
# stratified k-fold cross-validation against the same folds without them ("none", n = 0).

if MINORITY:

    rule cross_validate_minority:
        """Study 2: repeated stratified CV with n added faces of the target emotion, one setting."""
        input:
            faces=face_store_files([config["minority"]["dataset"]]),
            design=ancient(DESIGN_CHECK),
            translator_models=lambda wc: minority_translator_models(wc.mtranslator),
            code=CODE["cross_validate_minority"],
        output:
            folds="results/minority/{mtranslator}/n{n}/folds.csv",
        log:
            "results/logs/cross_validate_minority/{mtranslator}_n{n}.log",
        benchmark:
            "results/benchmarks/cross_validate_minority/{mtranslator}_n{n}.tsv"
        conda:
            CONDA_ENV
        threads: 1
        resources:
            gpu=1,
            mem_mb=4000,
            runtime=runtime("minority", 240),
        params:
            minority=asdict(MINORITY),
            classifier=lambda wc: asdict(sfconfig.classifier_config(config, "0")),
            device=DEVICE,
        script:
            "../scripts/cross_validate_minority.py"

    rule summarize_minority:
        """Study 2's table over folds and its paired comparisons."""
        input:
            folds=minority_runs(),
            code=CODE["summarize_minority"],
        output:
            summary=report("results/report/minority.csv", category="Study 2", caption="../report/minority.rst"),
            gains=report(
                "results/report/minority_gains.csv", category="Study 2", caption="../report/minority_gains.rst"
            ),
        log:
            "results/logs/summarize_minority.log",
        localrule: True  # seconds of work: on the submitting host, not an sbatch job
        conda:
            CONDA_ENV
        params:
            target=MINORITY.target,
        script:
            "../scripts/summarize_minority.py"
