# Query/gallery evaluation of a checkpoint with every inference feature (global, top, bottom,
# joint over the configured eta values), every `eval_every` epochs and at the end.


rule evaluate:
    input:
        model=lambda wc: checkpoint_of(wc, int(wc.epoch)),
        data=target_summary,
    output:
        metrics=EPOCH_DIR + "/eval.json",
    params:
        settings=lambda wc: settings(wc, "evaluate"),
    log:
        EPOCH_DIR + "/logs/evaluate.log",
    benchmark:
        EPOCH_DIR + "/benchmarks/evaluate.tsv"
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
        "../workflow_scripts/evaluate.py"


rule summarize_experiment:
    input:
        experiment_outputs,
    output:
        summary=EXPERIMENT + "/summary.json",
        history=EXPERIMENT + "/history.csv",
        curves=report(
            EXPERIMENT + "/curves.png",
            category="Experiments",
            labels={"setting": "{setting}", "task": "{task}", "variant": "{variant}",
                    "seed": "{seed}"},
        ),
    params:
        settings=lambda wc: settings(wc, "summary"),
    log:
        EXPERIMENT + "/logs/summary.log",
    threads: 1
    conda:
        ENV
    script:
        "../workflow_scripts/summarize.py"
