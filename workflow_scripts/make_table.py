"""Rules table1..4: a paper table from experiment summaries, beside the paper's values."""

from secret_core.pipeline.reports import make_table
from secret_core.pipeline.runner import run_stage
from secret_core.provenance import from_snakemake

run_stage(
    snakemake,
    make_table,
    summary_paths=list(snakemake.input),
    settings=snakemake.params.settings,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.markdown,
    provenance=from_snakemake(snakemake),
)
