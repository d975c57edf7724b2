"""Rule summarize_experiment: one experiment's per-epoch history and final metrics."""

from secret_core.pipeline.runner import run_stage
from secret_core.pipeline.summary import summarize_experiment
from secret_core.provenance import from_snakemake

run_stage(
    snakemake,
    summarize_experiment,
    paths=list(snakemake.input),
    settings=snakemake.params.settings,
    summary_path=snakemake.output.summary,
    history_path=snakemake.output.history,
    curves_path=snakemake.output.curves,
    provenance=from_snakemake(snakemake),
)
