"""Rule pretrain_source: supervised pre-training on the labelled source domain."""

from secret_core.pipeline.runner import run_stage
from secret_core.pipeline.training import pretrain_source

run_stage(
    snakemake,
    pretrain_source,
    data_summary=snakemake.input.source,
    bn_summary=snakemake.input.bn_domain[0] if snakemake.input.bn_domain else None,
    settings=snakemake.params.settings,
    model_path=snakemake.output.model,
    record_path=snakemake.output.record,
)
