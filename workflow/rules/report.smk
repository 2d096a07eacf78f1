# The report: metrics from the kept predictions, figures, and summary.md. Plotting lives in its own
# rules and scripts, so editing a figure never retrains a model.

PREDICTIONS = run_files("predictions.csv")


rule aggregate_metrics:
    """Metrics per run and over seeds, paired gains, Tables 2 and 3."""
    input:
        predictions=PREDICTIONS,
        histories=run_files("history.csv"),
        code=CODE["aggregate_metrics"],
    output:
        metrics=report("results/report/metrics.csv", category="Tables (CSV)", caption="../report/metrics.rst"),
        summary="results/report/metrics_summary.csv",
        gains=report("results/report/paired_gains.csv", category="Tables (CSV)", caption="../report/paired_gains.rst"),
        table2=report("results/report/table2.csv", category="Tables (CSV)", caption="../report/table2.rst"),
        table3=report("results/report/table3.csv", category="Tables (CSV)", caption="../report/table3.rst"),
        selection_gains=report(
            "results/report/selection_gains.csv", category="Tables (CSV)", caption="../report/selection_gains.rst"
        ),
        control_gains=report(
            "results/report/control_gains.csv", category="Tables (CSV)", caption="../report/control_gains.rst"
        ),
        gan_run_gains=report(
            "results/report/gan_run_gains.csv", category="Tables (CSV)", caption="../report/gan_run_gains.rst"
        ),
    log:
        "results/logs/aggregate_metrics.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        cross_test=config["roles"]["cross_test"],
        target_effect=TARGET_EFFECT,
    script:
        "../scripts/aggregate_metrics.py"


rule plot_accuracy_vs_ratio:
    """Accuracy against k per arm, with the tables' intervals."""
    input:
        summary="results/report/metrics_summary.csv",
        code=CODE["plot_accuracy_vs_ratio"],
    output:
        figure=report(
            "results/report/accuracy_vs_ratio.png", category="Figures", caption="../report/accuracy_vs_ratio.rst"
        ),
    log:
        "results/logs/plot_accuracy_vs_ratio.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        cross_test=config["roles"]["cross_test"],
    script:
        "../scripts/plot_accuracy_vs_ratio.py"


rule plot_per_class_metrics:
    """Per-class precision, recall and F1 of the compared models."""
    input:
        summary="results/report/metrics_summary.csv",
        table3="results/report/table3.csv",
        code=CODE["plot_per_class_metrics"],
    output:
        figure=report(
            "results/report/per_class_metrics.png", category="Figures", caption="../report/per_class_metrics.rst"
        ),
    log:
        "results/logs/plot_per_class_metrics.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        cross_test=config["roles"]["cross_test"],
    script:
        "../scripts/plot_per_class_metrics.py"


rule plot_confusion_matrices:
    """Confusion matrices per test set, arm and k."""
    input:
        predictions=PREDICTIONS,
        code=CODE["plot_confusion_matrices"],
    output:
        figures=report(
            directory("results/report/confusion"),
            patterns=["{test_set}_{arm,[^_]+}_k{k}.png"],  # arms have no underscore; test sets may
            category="Confusion matrices",
            subcategory="{test_set}",
            labels={"test set": "{test_set}", "arm": "{arm}", "k": "{k}"},
            caption="../report/confusion.rst",
        ),
    log:
        "results/logs/plot_confusion_matrices.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_confusion_matrices.py"


rule plot_samples:
    """A grid of generated identities by emotion, per translator."""
    input:
        unit=store_files("results/generated/{translator}/gan_run0/unit0"),
        code=CODE["plot_samples"],
    output:
        figure=report(
            "results/report/samples_{translator}.png",
            category="Generated faces",
            labels={"translator": "{translator}"},
            caption="../report/samples.rst",
        ),
    log:
        "results/logs/plot_samples/{translator}.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        identities=8,
    script:
        "../scripts/plot_samples.py"


rule evaluate_generated:
    """Fidelity, identity preservation, diversity and Frechet distance of one translator's faces, one GAN run."""
    input:
        models=expand("results/classify/real/k0/seed{seed}/model.pt", seed=SEEDS),
        units=lambda wc: [
            f
            for u in range(N_UNITS)
            for f in store_files(f"results/generated/{wc.translator}/gan_run{wc.gan_run}/unit{u}")
        ],
        real=store_files("results/real"),
        code=CODE["evaluate_generated"],
    output:
        fidelity="results/quality/{translator}/gan_run{gan_run}/generated_fidelity.csv",
        quality="results/quality/{translator}/gan_run{gan_run}/quality.csv",
    log:
        "results/logs/evaluate_generated/{translator}_gan_run{gan_run}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=runtime("evaluate", 30),
    params:
        device=DEVICE,
    script:
        "../scripts/evaluate_generated.py"


rule check_memorisation:
    """Each generated face of one translator's GAN run against its nearest GAN-training face: near-copies."""
    input:
        units=lambda wc: [
            f
            for u in range(N_UNITS)
            for f in store_files(f"results/generated/{wc.translator}/gan_run{wc.gan_run}/unit{u}")
        ],
        gan_faces=GAN_STORE_FILES,
        code=CODE["check_memorisation"],
    output:
        table="results/quality/{translator}/gan_run{gan_run}/memorisation.csv",
        figure=report(
            "results/quality/{translator}/gan_run{gan_run}/closest_pairs.png",
            category="Generated faces",
            labels={"translator": "{translator}", "GAN run": "{gan_run}", "figure": "closest pairs"},
            caption="../report/closest_pairs.rst",
        ),
    log:
        "results/logs/check_memorisation/{translator}_gan_run{gan_run}.log",
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=runtime("evaluate", 30),
    script:
        "../scripts/check_memorisation.py"


rule write_summary:
    """summary.md, the report's HTML pages and answer, provenance.json."""
    input:
        metrics_summary="results/report/metrics_summary.csv",
        gains="results/report/paired_gains.csv",
        selection_gains="results/report/selection_gains.csv",
        control_gains="results/report/control_gains.csv",
        table2="results/report/table2.csv",
        table3="results/report/table3.csv",
        fidelity_parts=[
            f"results/quality/{t}/gan_run{r}/generated_fidelity.csv" for t in GENERATING for r in gan_runs_of(t)
        ],
        quality_parts=[
            f"results/quality/{t}/gan_run{r}/{table}.csv"
            for t in GENERATING
            for r in gan_runs_of(t)
            for table in ("quality", "memorisation")
        ],
        gan_run_gains="results/report/gan_run_gains.csv",
        figure="results/report/accuracy_vs_ratio.png",
        selection_parts=(
            [
                f"results/selected/{t}/gan_run{r}/unit{u}/counts.csv"
                for t in GENERATING
                for r in gan_runs_of(t)
                for u in range(N_UNITS)
            ]
            if SELECTION
            else []
        ),
        minority=["results/report/minority.csv", "results/report/minority_gains.csv"] if MINORITY else [],
        code=CODE["write_summary"],
    output:
        summary="results/report/summary.md",
        summary_html=report("results/report/summary.html", category="Summary", caption="../report/summary.rst"),
        answer="results/report/answer.rst",
        gains_html=report("results/report/paired_gains.html", category="Tables", caption="../report/paired_gains.rst"),
        control_gains_html=report(
            "results/report/control_gains.html", category="Tables", caption="../report/control_gains.rst"
        ),
        table2_html=report("results/report/table2.html", category="Tables", caption="../report/table2.rst"),
        table3_html=report("results/report/table3.html", category="Tables", caption="../report/table3.rst"),
        provenance="results/report/provenance.json",
        fidelity="results/report/generated_fidelity.csv",
        quality=report("results/report/quality.csv", category="Tables (CSV)", caption="../report/quality.rst"),
        selection="results/report/selection_counts.csv",
    log:
        "results/logs/write_summary.log",
    localrule: True  # seconds of work: on the submitting host, not an sbatch job
    conda:
        CONDA_ENV
    params:
        # the whole config: summary.md and provenance.json record it, so any change to it rewrites them (only them)
        study=config,
        target_effect=TARGET_EFFECT,
    script:
        "../scripts/write_summary.py"
