# Datasets: synthetic domains are generated; real ones are read in place. Every consumer reads
# the dataset through results/data/{dataset}/summary.json, which names its root and layout.
# Every image is decoded, checked and resized once here, to the model's input size, into
# pixels.npy (train, query, gallery), which extraction, fine-tuning and evaluation map.


rule prepare_dataset:
    output:
        summary="results/data/{dataset}/summary.json",
        pixels="results/data/{dataset}/pixels.npy",
        manifest="results/data/{dataset}/files.npz",
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
        failures="results/data/{dataset}/logs/unreadable.txt",
    script:
        "../workflow_scripts/prepare_dataset.py"
