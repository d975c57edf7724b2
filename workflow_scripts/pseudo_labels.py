"""Rule pseudo_labels: cluster the variant's feature spaces, then refine their labels."""

from secret_core.pipeline.pseudo_labels import label_epoch
from secret_core.pipeline.runner import run_stage

run_stage(
    snakemake,
    label_epoch,
    spaces=snakemake.params.settings["spaces"],
    first_clusters=list(snakemake.input.first_clusters),
    data_summary=snakemake.input.data,
    settings={
        "cluster": snakemake.params.settings["cluster"],
        "refine": snakemake.params.settings["refine"],
    },
    out_labels=snakemake.output.labels,
    out_stats=snakemake.output.stats,
    features_path=snakemake.input.features or None,
    label_paths=list(snakemake.input.clustered),
)
