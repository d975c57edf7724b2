"""Rules evaluate_<setting>_epochs_<first>_<last>: the evaluated epochs of a span, one job."""

from secret_core.pipeline.evaluation_stage import evaluate_checkpoints
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    evaluate_checkpoints,
    model_paths=list(snakemake.input.models),
    data_summary=snakemake.input.data,
    settings=snakemake.params.settings["epochs"],
    out_paths=list(snakemake.output),
)
