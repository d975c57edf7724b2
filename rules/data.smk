# Datasets: synthetic domains are generated; real ones are read in place. Every consumer reads
# the dataset through results/data/{dataset}/summary.json, which names its root and layout.


rule prepare_dataset:
    output:
        summary="results/data/{dataset}/summary.json",
    log:
        "results/data/{dataset}/logs/summary.log",
    benchmark:
        "results/data/{dataset}/benchmarks/summary.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        entry=lambda wc: config_check.canonical(config["datasets"][wc.dataset]),
        data_root=config.get("data_root", ""),
    script:
        "../workflow_scripts/prepare_dataset.py"
