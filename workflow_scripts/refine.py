"""Rule refine: mutual refinement of the clustered spaces and label-quality metrics."""

from secret_core.pipeline.pseudo_labels import refine_labels
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    refine_labels,
    label_paths=list(snakemake.input.labels),
    spaces=snakemake.params.spaces,
    data_summary=snakemake.input.data,
    settings=snakemake.params.settings,
    out_labels=snakemake.output.labels,
    out_stats=snakemake.output.stats,
)
