"""Rule evaluate: query/gallery metrics of one checkpoint with every inference feature."""

from secret_core.pipeline.evaluation_stage import evaluate_checkpoint
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    evaluate_checkpoint,
    model_path=snakemake.input.model,
    data_summary=snakemake.input.data,
    settings=snakemake.params.settings,
    out_path=snakemake.output.metrics,
)
