"""Rule cluster_start: k-reciprocal Jaccard distance + DBSCAN on one space of the start
model's first-epoch features (chooses the eps that later epochs reuse)."""

from secret_core.pipeline.pseudo_labels import cluster_space
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    cluster_space,
    features_path=snakemake.input.features,
    eps_from=[],
    settings=snakemake.params.settings,
    labels_path=snakemake.output.labels,
    stats_path=snakemake.output.stats,
)
