"""Rule prepare_dataset: generate a synthetic domain or locate a real dataset."""

from secret_core.pipeline.datasets import prepare_dataset
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    prepare_dataset,
    name=snakemake.wildcards.dataset,
    entry=snakemake.params.settings["entry"],
    data_root=snakemake.params.settings["data_root"],
    summary_path=snakemake.output.summary,
)
