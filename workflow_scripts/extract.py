"""Rule extract: the three features of every target training image for this epoch."""

from secret_core.pipeline.features import extract_train_features
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    extract_train_features,
    model_path=snakemake.input.model,
    data_summary=snakemake.input.data,
    settings=snakemake.params.settings,
    out_path=snakemake.output.features,
)
