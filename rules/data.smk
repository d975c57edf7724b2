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
        settings=lambda wc: config_check.prepare_settings(config, wc.dataset),
    script:
        "../workflow_scripts/prepare_dataset.py"
