# The balanced synthetic set, one unit per job: new identities (as many per split as the real set has
# subjects), each with all six emotions. Adding a larger ratio only generates the new units.


rule generate_faces:
    input:
        real="results/real/faces.csv",
        identity="results/gan/identity/generator.pt",
        translator="results/gan/stargan/generator.pt",
        code=CODE["generate"],
    output:
        images="results/generated/unit{unit}/faces.npz",
        table="results/generated/unit{unit}/faces.csv",
    params:
        seed=config["generate"].get("seed", 0),
        device=DEVICE,
    conda:
        CONDA_ENV
    log:
        "results/logs/generate_faces/unit{unit}.log",
    benchmark:
        "results/benchmarks/generate_faces/unit{unit}.tsv"
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=lambda wc, attempt: 60 * attempt,
    script:
        "../../scripts/generate_faces.py"
