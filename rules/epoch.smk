# One target epoch of one experiment: extract -> cluster (one job per space) -> refine ->
# finetune. Epoch e extracts with the checkpoint of epoch e-1. Epoch 1's features and
# clusters are the start model's, the same for every variant: rules/start.smk makes them
# once, beside the start model.
# Checkpoints of epochs not kept (keep_checkpoints_every) are temp(): Snakemake deletes one
# once the next epoch's extract and finetune and its evaluation have read it.


rule extract:
    input:
        model=previous_checkpoint,
        data=target_summary,
    output:
        features=temp(
            "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/features.npz"
        ),
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/logs/extract.log",
    benchmark:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/benchmarks/extract.tsv"
    group:
        EPOCH_GROUP
    conda:
        ENV
    threads: config["threads_per_job"]
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=config["gpu_per_job"],
    params:
        settings=lambda wc: settings(wc, "extract"),
    script:
        "../workflow_scripts/extract.py"


rule cluster:
    input:
        features=features_of_epoch,
        eps_from=eps_reference,
    output:
        labels="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/labels_{space}.npy",
        stats="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/cluster_{space}.json",
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/logs/cluster_{space}.log",
    benchmark:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/benchmarks/cluster_{space}.tsv"
    group:
        EPOCH_GROUP
    conda:
        ENV
    threads: config["threads_per_job"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=CPU_STAGE_GPU,
    params:
        settings=lambda wc: settings(wc, "cluster"),
    script:
        "../workflow_scripts/cluster.py"


rule refine:
    input:
        labels=lambda wc: [labels_of_epoch(wc, s) for s in clustered_spaces(wc)],
        data=target_summary,
    output:
        labels="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/refined.npz",
        stats="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/refine.json",
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/logs/refine.log",
    benchmark:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/benchmarks/refine.tsv"
    group:
        EPOCH_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=CPU_STAGE_GPU,
    params:
        settings=lambda wc: settings(wc, "refine"),
        spaces=clustered_spaces,
    script:
        "../workflow_scripts/refine.py"


rule finetune:
    input:
        model=previous_checkpoint,
        features=features_of_epoch,
        labels="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/refined.npz",
        data=target_summary,
    output:
        model=temp(
            "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/model.pt"
        ),
        record="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/train.json",
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/logs/finetune.log",
    benchmark:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/benchmarks/finetune.tsv"
    wildcard_constraints:
        epoch=TEMPORARY_CHECKPOINT_EPOCHS,
    group:
        EPOCH_GROUP
    conda:
        ENV
    threads: config["threads_per_job"]
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=config["gpu_per_job"],
    params:
        settings=lambda wc: settings(wc, "finetune"),
    script:
        "../workflow_scripts/finetune.py"


# The same job for the epochs whose checkpoint stays on disk (keep_checkpoints_every, last).
use rule finetune as finetune_kept with:
    output:
        model="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/model.pt",
        record="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/train.json",
    wildcard_constraints:
        epoch=KEPT_CHECKPOINT_EPOCHS,
