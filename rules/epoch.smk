# One target epoch of one experiment: extract -> pseudo_labels (cluster every space the
# variant uses, then refine) -> finetune. Epoch e extracts with the checkpoint of epoch e-1.
# Epoch 1's features and clusterings are the start model's, the same for every variant:
# rules/start.smk makes them once, beside the start model, and epoch 1 only refines them.
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


rule pseudo_labels:
    input:
        features=features_to_cluster,
        clustered=shared_clusterings,
        first_clusters=first_cluster_stats,
        data=target_summary,
    output:
        labels="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/refined.npz",
        stats="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/refine.json",
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/logs/pseudo_labels.log",
    benchmark:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/benchmarks/pseudo_labels.tsv"
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
        spaces=clustered_spaces,
        cluster=cluster_settings,
        refine=lambda wc: settings(wc, "refine"),
    script:
        "../workflow_scripts/pseudo_labels.py"


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
