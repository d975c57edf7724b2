# With `epochs_per_job` > 1: one job per span of consecutive target epochs of one experiment,
# instead of rules/epoch.smk's two jobs per epoch. It runs the same stages in the same order
# (pseudo labels, then fine-tuning and the next epoch's features) with each epoch's own
# params, so it writes the same per-epoch files, to the bit. The span's evaluated epochs are
# a second job (below), so an evaluation setting never reruns training. A span resumes as a
# whole: a job killed in its fourth epoch runs its first three again.
# One rule per span (epochs are part of its output paths); each setting has its own spans.


for span in EPOCH_SPANS:

    rule:
        name:
            f"adapt_{span.setting}_epochs_{span.first:03d}_{span.last:03d}"
        input:
            unpack(span_inputs(span)),
        output:
            **span_outputs(span),
        log:
            f"{paths.EXPERIMENT}/logs/epochs_{span.name}.log",
        benchmark:
            f"{paths.EXPERIMENT}/benchmarks/epochs_{span.name}.tsv"
        wildcard_constraints:
            setting=span.setting,
        group:
            span_group(span) if EPOCH_GROUP else None
        conda:
            ENV
        threads: config["threads_per_job"]
        resources:
            mem_mb=8000,
            runtime=120 * len(span.epochs),
            gpu=config["gpu_per_job"],
        params:
            settings=span_settings(span),
        script:
            "../workflow_scripts/adapt_epochs.py"

    # The span's evaluated epochs, in one job of their own: an evaluation setting reruns
    # this job only, and the span's training never waits for it.
    if span_evaluations(span):

        rule:
            name:
                f"evaluate_{span.setting}_epochs_{span.first:03d}_{span.last:03d}"
            input:
                unpack(span_evaluation_inputs(span)),
            output:
                span_evaluation_outputs(span),
            log:
                f"{paths.EXPERIMENT}/logs/evaluate_{span.name}.log",
            benchmark:
                f"{paths.EXPERIMENT}/benchmarks/evaluate_{span.name}.tsv"
            wildcard_constraints:
                setting=span.setting,
            group:
                span_group(span) if EPOCH_GROUP else None
            conda:
                ENV
            threads: config["threads_per_job"]
            resources:
                mem_mb=8000,
                runtime=60,
                gpu=config["gpu_per_job"],
            params:
                settings=span_evaluation_settings(span),
            script:
                "../workflow_scripts/evaluate_epochs.py"
