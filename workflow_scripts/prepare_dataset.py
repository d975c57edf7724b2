"""Rule prepare_dataset: generate or locate a dataset, decode and check its images once."""

from secret_core.pipeline.datasets import prepare_dataset
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    prepare_dataset,
    name=snakemake.wildcards.dataset,
    entry=snakemake.params.settings["entry"],
    data_root=snakemake.params.settings["data_root"],
    summary_path=snakemake.output.summary,
    height=snakemake.params.settings["height"],
    width=snakemake.params.settings["width"],
    pixels_path=snakemake.output.pixels,
    manifest_path=snakemake.output.manifest,
    failures_path=snakemake.params.failures,
    generator=snakemake.params.settings.get("generator"),
)
