# Supervised source pre-training (one model per source domain and seed, shared by every
# experiment with that source) and the initial network of the fully unsupervised setting.


rule pretrain_source:
    input:
        source=lambda wc: dataset_summary(wc.dataset),
    output:
        model="results/pretrain/{dataset}/seed{seed}/model.pt",
        record="results/pretrain/{dataset}/seed{seed}/train.json",
    log:
        "results/pretrain/{dataset}/seed{seed}/logs/pretrain.log",
    benchmark:
        "results/pretrain/{dataset}/seed{seed}/benchmarks/pretrain.tsv"
    conda:
        ENV
    threads: config["threads_per_job"]
    resources:
        mem_mb=8000,
        runtime=600,
        gpu=config["gpu_per_job"],
    params:
        settings=lambda wc: settings(wc, "pretrain"),
    script:
        "../workflow_scripts/pretrain.py"


rule init_model:
    output:
        model="results/init/seed{seed}/model.pt",
    log:
        "results/init/seed{seed}/logs/init.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        settings=lambda wc: settings(wc, "init"),
    script:
        "../workflow_scripts/init_model.py"
