"""Rules adapt_<setting>_epochs_<first>_<last>: a span of target epochs in one job."""

from secret_core.pipeline.epoch_span import EpochFiles, adapt_epochs
from secret_core.pipeline.runner import run_stage

outputs = dict(snakemake.output.items())
epochs = snakemake.params.settings["epochs"]
files = [
    EpochFiles(
        epoch=e["epoch"],
        labels=outputs[f"labels_{e['epoch']:03d}"],
        stats=outputs[f"stats_{e['epoch']:03d}"],
        record=outputs[f"record_{e['epoch']:03d}"],
        model=outputs.get(f"model_{e['epoch']:03d}"),
        features=outputs.get(f"features_{e['epoch']:03d}"),
    )
    for e in epochs
]
run_stage(
    snakemake,
    adapt_epochs,
    model_path=snakemake.input.model,
    features_path=snakemake.input.features,
    first_clusters=list(snakemake.input.first_clusters),
    data_summary=snakemake.input.data,
    epochs=epochs,
    files=files,
    label_paths=list(snakemake.input.clustered),
)
