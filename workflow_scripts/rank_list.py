"""Rule rank_list: top-10 gallery matches of a few queries, for the HTML report."""

from secret_core.pipeline.evaluation_stage import draw_rank_lists
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    draw_rank_lists,
    model_path=snakemake.input.model,
    data_summary=snakemake.input.data,
    settings=snakemake.params.settings,
    out_png=snakemake.output.png,
)
