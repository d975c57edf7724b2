# Supervised source pre-training and the initial network of the fully unsupervised setting.
# A source model lives in results/pretrain/{source}/bn_{domain}/: with pretrain.target_bn
# (the authors' recipe) its BatchNorm statistics are adapted to the task's target, so it
# belongs to that (source, target) pair; without, bn_{source} is shared by every task.


rule pretrain_source:
    input:
        source=lambda wc: dataset_summary(wc.dataset),
        bn_domain=lambda wc: (
            [dataset_summary(wc.bn_domain)] if wc.bn_domain != wc.dataset else []
        ),
    output:
        model="results/pretrain/{dataset}/bn_{bn_domain}/seed{seed}/model.pt",
        record="results/pretrain/{dataset}/bn_{bn_domain}/seed{seed}/train.json",
    log:
        "results/pretrain/{dataset}/bn_{bn_domain}/seed{seed}/logs/pretrain.log",
    benchmark:
        "results/pretrain/{dataset}/bn_{bn_domain}/seed{seed}/benchmarks/pretrain.tsv"
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
