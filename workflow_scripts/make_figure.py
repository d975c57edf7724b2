"""Rule make_figure: one of the paper's figures (1c, 5, 6, 7) from experiment summaries."""

from secret_core.pipeline.reports import make_figure
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    make_figure,
    summary_paths=list(snakemake.input),
    settings=snakemake.params.settings,
    png_path=snakemake.output.png,
    pdf_path=snakemake.output.pdf,
)
