# One target epoch of one experiment: extract -> cluster (one job per space) -> refine ->
# finetune. Epoch e extracts with the checkpoint of epoch e-1 (epoch 0: the start model).


rule extract:
    input:
        model=previous_checkpoint,
        data=target_summary,
    output:
        features=temp(EPOCH_DIR + "/features.npz"),
    params:
        settings=lambda wc: settings(wc, "extract"),
    log:
        EPOCH_DIR + "/logs/extract.log",
    benchmark:
        EPOCH_DIR + "/benchmarks/extract.tsv"
    group:
        epoch_group
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=config["gpu_per_job"],
    conda:
        ENV
    script:
        "../workflow_scripts/extract.py"


rule cluster:
    input:
        features=EPOCH_DIR + "/features.npz",
        eps_from=eps_reference,
    output:
        labels=EPOCH_DIR + "/labels_{space}.npy",
        stats=EPOCH_DIR + "/cluster_{space}.json",
    params:
        settings=lambda wc: settings(wc, "cluster"),
    log:
        EPOCH_DIR + "/logs/cluster_{space}.log",
    benchmark:
        EPOCH_DIR + "/benchmarks/cluster_{space}.tsv"
    group:
        epoch_group
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=CPU_STAGE_GPU,
    conda:
        ENV
    script:
        "../workflow_scripts/cluster.py"


rule refine:
    input:
        labels=lambda wc: [paths.epoch_file(wc, int(wc.epoch), f"labels_{s}.npy") for s in clustered_spaces(wc)],
        data=target_summary,
    output:
        labels=EPOCH_DIR + "/refined.npz",
        stats=EPOCH_DIR + "/refine.json",
    params:
        settings=lambda wc: settings(wc, "refine"),
        spaces=clustered_spaces,
    log:
        EPOCH_DIR + "/logs/refine.log",
    group:
        epoch_group
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=CPU_STAGE_GPU,
    conda:
        ENV
    script:
        "../workflow_scripts/refine.py"


rule finetune:
    input:
        model=previous_checkpoint,
        features=EPOCH_DIR + "/features.npz",
        labels=EPOCH_DIR + "/refined.npz",
        data=target_summary,
    output:
        model=EPOCH_DIR + "/model.pt",
        record=EPOCH_DIR + "/train.json",
    params:
        settings=lambda wc: settings(wc, "finetune"),
    log:
        EPOCH_DIR + "/logs/finetune.log",
    benchmark:
        EPOCH_DIR + "/benchmarks/finetune.tsv"
    group:
        epoch_group
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=config["gpu_per_job"],
    conda:
        ENV
    script:
        "../workflow_scripts/finetune.py"
