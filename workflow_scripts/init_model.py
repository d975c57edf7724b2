"""Rule init_model: the starting network of the fully unsupervised setting."""

from secret_core.pipeline.runner import run_stage
from secret_core.pipeline.training import init_model

run_stage(
    snakemake,
    init_model,
    settings=snakemake.params.settings,
    model_path=snakemake.output.model,
    imagenet_file=snakemake.input.imagenet[0] if snakemake.input.imagenet else None,
)
