# Query/gallery evaluation of a checkpoint with every inference feature (global, top, bottom,
# joint over the configured eta values), every `eval_every` epochs and at the end. With
# `epochs_per_job` > 1, rules/epoch_span.smk evaluates a span's epochs in one job instead.


rule evaluate:
    input:
        model=lambda wc: checkpoint_of(wc, int(wc.epoch)),
        data=target_summary,
    output:
        metrics="results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/eval.json",
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/logs/evaluate.log",
    benchmark:
        "results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/benchmarks/evaluate.tsv"
    wildcard_constraints:
        epoch=EVALUATED_ONE_BY_ONE,
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
        settings=lambda wc: settings(wc, "evaluate"),
    script:
        "../workflow_scripts/evaluate.py"


# The start model evaluated once per target, for every variant's epoch 0 (Source only).
use rule evaluate as evaluate_start with:
    input:
        model="results/{start}/model.pt",
        data=start_target_summary,
    output:
        metrics="results/{start}/target_{target}/eval.json",
    log:
        "results/{start}/target_{target}/logs/evaluate.log",
    benchmark:
        "results/{start}/target_{target}/benchmarks/evaluate.tsv"
    group:
        START_GROUP
    params:
        settings=lambda wc: PLAN.start_settings("evaluate", wc.start),


rule summarize_experiment:
    input:
        experiment_outputs,
    output:
        summary="results/{setting}/{task}/{variant}/seed{seed}/summary.json",
        history="results/{setting}/{task}/{variant}/seed{seed}/history.csv",
        curves=report(
            "results/{setting}/{task}/{variant}/seed{seed}/curves.png",
            category="Experiments",
            labels={
                "setting": "{setting}",
                "task": "{task}",
                "variant": "{variant}",
                "seed": "{seed}",
            },
        ),
    log:
        "results/{setting}/{task}/{variant}/seed{seed}/logs/summary.log",
    conda:
        ENV
    threads: 1
    params:
        settings=lambda wc: settings(wc, "summary"),
    script:
        "../workflow_scripts/summarize.py"
