"""Rules finetune, finetune_kept, finetune_final: one target epoch on the refined pseudo
labels, then the features of the target training images that the next epoch clusters."""

from secret_core.pipeline.runner import run_stage
from secret_core.pipeline.training import finetune_then_extract

run_stage(
    snakemake,
    finetune_then_extract,
    model_path=snakemake.input.model,
    features_path=snakemake.input.features,
    labels_path=snakemake.input.labels,
    data_summary=snakemake.input.data,
    settings=snakemake.params.settings["train"],
    out_model=snakemake.output.model,
    out_record=snakemake.output.record,
    extract_settings=snakemake.params.settings["extract"],
    out_features=snakemake.output.features,
)
