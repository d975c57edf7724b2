# The first target epoch's features and clusterings come from the start model, so they are
# the same for every variant that starts from it (Baseline, SECRET, its ablations, MT, every
# K of Figure 7): one job each, beside the start model, in results/{start}/target_{target}/.
# The features stay on disk (not temp): a later target may need a space no earlier run
# clustered (naive SECRET's concat after table1), and re-extracting them would make Snakemake
# rerun every clustering of that start and every experiment after it ("updated by another
# job"; ancient() does not stop that).


rule extract_start:
    input:
        model="results/{start}/model.pt",
        data=start_target_summary,
    output:
        features="results/{start}/target_{target}/features.npz",
    log:
        "results/{start}/target_{target}/logs/extract.log",
    benchmark:
        "results/{start}/target_{target}/benchmarks/extract.tsv"
    group:
        START_GROUP
    conda:
        ENV
    threads: config["threads_per_job"]
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=config["gpu_per_job"],
    params:
        settings=lambda wc: PLAN.start_settings("extract", wc.start),
    script:
        "../workflow_scripts/extract.py"


rule cluster_start:
    input:
        features="results/{start}/target_{target}/features.npz",
    output:
        labels="results/{start}/target_{target}/labels_{space}.npy",
        stats="results/{start}/target_{target}/cluster_{space}.json",
    log:
        "results/{start}/target_{target}/logs/cluster_{space}.log",
    benchmark:
        "results/{start}/target_{target}/benchmarks/cluster_{space}.tsv"
    group:
        START_GROUP
    conda:
        ENV
    threads: config["threads_per_job"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=CPU_STAGE_GPU,
    params:
        settings=lambda wc: PLAN.start_settings("cluster", wc.start, wc.space),
    script:
        "../workflow_scripts/cluster.py"
