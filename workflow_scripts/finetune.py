"""Rule finetune: one target epoch on the refined pseudo labels."""

from secret_core.pipeline.runner import run_stage
from secret_core.pipeline.training import finetune_epoch

run_stage(
    snakemake,
    finetune_epoch,
    model_path=snakemake.input.model,
    features_path=snakemake.input.features,
    labels_path=snakemake.input.labels,
    data_summary=snakemake.input.data,
    settings=snakemake.params.settings,
    out_model=snakemake.output.model,
    out_record=snakemake.output.record,
)
