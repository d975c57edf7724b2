# One target epoch of one experiment: pseudo_labels (cluster every space the variant uses,
# then refine) -> finetune, which then extracts the features the next epoch clusters (with
# the checkpoint it has just written, so no epoch needs an extraction job of its own).
# Epoch 1's features and clusterings are the start model's, the same for every variant:
# rules/start.smk makes them once, beside the start model, and epoch 1 only refines them.
# Checkpoints and features of epochs not kept (keep_checkpoints_every) are temp(): Snakemake
# deletes them once the next epoch's jobs and the epoch's evaluation have read them. The
# three finetune rules differ only in what they keep; their jobs and params are the same, so
# an epoch that changes rule (adapt.epochs raised: the last epoch is no longer last) is not
# run again. Each rule's inputs and params come from one function each (rules/common.smk):
# Snakemake inspects every function of every job, and the paper's plan has ~6,600 of them.


rule pseudo_labels:
    input:
        unpack(pseudo_labels_inputs),
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
        settings=pseudo_labels_settings,
    script:
        "../workflow_scripts/pseudo_labels.py"


rule finetune:
    input:
        unpack(finetune_inputs),
    output:
        model=temp(
            "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/model.pt"
        ),
        record="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/train.json",
        features=temp(
            "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/features_after.npz"
        ),
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
        settings=finetune_settings,
    script:
        "../workflow_scripts/finetune.py"


# The same job for the epochs whose checkpoint stays on disk (keep_checkpoints_every,
# evaluated epochs), except the last.
use rule finetune as finetune_kept with:
    output:
        model="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/model.pt",
        record="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/train.json",
        features=temp(
            "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/features_after.npz"
        ),
    wildcard_constraints:
        epoch=KEPT_CHECKPOINT_EPOCHS,


# The last epoch of a setting: its checkpoint and its features stay on disk, so that epochs
# added later (adapt.epochs raised) start from them without training this one again.
use rule finetune as finetune_final with:
    output:
        model="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/model.pt",
        record="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/train.json",
        features="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/features_after.npz",
    wildcard_constraints:
        epoch=LAST_CHECKPOINT_EPOCHS,
