# Helpers shared by the rule files (config validation, variants, settings, paths).

import sys

from snakemake.utils import validate

from secret_core import provenance
import secret_core.workflow as wf
from secret_core.workflow import layout as paths, targets

NOTICES = wf.validate_config(
    config, workflow.source_path("../config/schema.yaml"), validate
)
if workflow.is_main_process:  # job processes parse the workflow again: say it once
    for notice in NOTICES:
        print(notice, file=sys.stderr)
# After validation (the schema does not know the key): which configfile made this run, for
# the provenance block of summaries and tables (see secret_core/provenance.py).
config[provenance.CONFIG_NAME_KEY] = provenance.config_name(
    wf.relative_paths(workflow.config_settings.configfiles, workflow.basedir)
)
VARIANTS = wf.load_variants(
    workflow.source_path("../config/variants.yaml"), config.get("variants", {})
)
wf.check_datasets(config)

ENV = "../environment.yml"

wf.check_persistence_backend(workflow)

# Every input, params and group function below runs once per job (about 7,000 with the
# paper's config, 21,000 with three seeds): what they derive from the config alone is computed
# once, here, and each epoch rule gets its inputs and its params from one function each.
PLAN = wf.Planner(config, VARIANTS)

# The DAG's millions of long-lived objects would be swept again and again by full garbage
# collections while Snakemake plans (about a tenth of the paper's dry run; see the module).
wf.defer_full_collections()

KEPT_EPOCHS, TEMPORARY_EPOCHS = wf.checkpoint_epochs(config)
LAST_EPOCHS = wf.last_epochs(config)  # always kept (see checkpoint_epochs)
KEPT_CHECKPOINT_EPOCHS = wf.epoch_pattern(
    [e for e in KEPT_EPOCHS if e not in LAST_EPOCHS]
)
TEMPORARY_CHECKPOINT_EPOCHS = wf.epoch_pattern(TEMPORARY_EPOCHS)
LAST_CHECKPOINT_EPOCHS = wf.epoch_pattern(LAST_EPOCHS)


def known_experiment(wc):
    """Stop with one line when the target path names an unknown task, seed or variant."""
    PLAN.check_experiment(wc)


def settings(wc, stage):
    """The params dict of one stage of one experiment (changing it reruns that stage)."""
    return PLAN.stage_settings(stage, dict(wc.items()))


def num_epochs(setting):
    return PLAN.num_epochs(setting)


def dataset_summary(name):
    return f"results/data/{name}/summary.json"


def target_summary(wc):
    known_experiment(wc)
    return dataset_summary(PLAN.target_dataset(wc.setting, wc.task))


def start_checkpoint(wc):
    """Epoch 0: the source-trained model (UDA) or the initialised network (USL)."""
    known_experiment(wc)
    return f"{PLAN.start_dir(wc.setting, wc.task, wc.seed)}/model.pt"


def shared_file(wc, name):
    """A first-epoch file every variant with this start model and target shares."""
    folder = PLAN.start_target_dir(wc.setting, wc.task, wc.seed)
    return f"{folder}/{name}"


def features_of_epoch(wc):
    """Features clustered in epoch ``wc.epoch``: epoch 1's are the start model's (shared),
    later ones what the previous epoch's finetune job extracted after training."""
    if int(wc.epoch) == 1:
        return shared_file(wc, "features.npz")
    return paths.epoch_file(wc, int(wc.epoch) - 1, "features_after.npz")


def pseudo_labels_inputs(wc):
    """Inputs of pseudo_labels (named as its script reads them). Epoch 1 clusters nothing and
    reads the start model's clusterings; later epochs cluster the features the previous epoch's
    finetune job extracted. Every epoch reads the start model's clustering stats: epoch 1's
    own, and the eps that later epochs reuse (``adapt.eps: auto``)."""
    spaces = clustered_spaces(wc)
    first = int(wc.epoch) == 1
    return {
        "features": [] if first else features_of_epoch(wc),
        "clustered": (
            [shared_file(wc, f"labels_{s}.npy") for s in spaces] if first else []
        ),
        "first_clusters": [shared_file(wc, f"cluster_{s}.json") for s in spaces],
        "data": target_summary(wc),
    }


def pseudo_labels_settings(wc):
    """The params of pseudo_labels: the spaces, their clustering (none at epoch 1, which
    clusters nothing) and the refinement."""
    return {
        "spaces": clustered_spaces(wc),
        "cluster": {} if int(wc.epoch) == 1 else settings(wc, "cluster"),
        "refine": settings(wc, "refine"),
    }


def finetune_inputs(wc):
    """Inputs of the finetune rules: the previous checkpoint, the features this epoch
    clustered (whose order the labels follow), the refined labels and the target."""
    return {
        "model": previous_checkpoint(wc),
        "features": features_of_epoch(wc),
        "labels": paths.epoch_file(wc, int(wc.epoch), "refined.npz"),
        "data": target_summary(wc),
    }


def finetune_settings(wc):
    """The params of the finetune rules: training, and the extraction of the features that
    the next epoch clusters (that epoch's extraction settings)."""
    next_epoch = {**dict(wc.items()), "epoch": f"{int(wc.epoch) + 1:03d}"}
    return {
        "train": settings(wc, "finetune"),
        "extract": settings(next_epoch, "extract"),
    }


def eval_file(wc, epoch):
    if epoch == 0:
        return shared_file(wc, "eval.json")
    return paths.epoch_file(wc, epoch, "eval.json")


def start_target_summary(wc):
    return dataset_summary(wc.target)


def checkpoint_of(wc, epoch):
    if epoch == 0:
        return start_checkpoint(wc)
    return paths.epoch_file(wc, epoch, "model.pt")


def previous_checkpoint(wc):
    return checkpoint_of(wc, int(wc.epoch) - 1)


def clustered_spaces(wc):
    known_experiment(wc)
    return PLAN.clustered_spaces(wc.variant)


def eval_epochs(setting):
    return PLAN.eval_epochs(setting)


def experiment_outputs(wc):
    """Everything an experiment's summary gathers: evaluations and per-epoch records."""
    known_experiment(wc)
    n = num_epochs(wc.setting)
    files = [eval_file(wc, e) for e in eval_epochs(wc.setting)]
    files += [paths.epoch_file(wc, e, "refine.json") for e in range(1, n + 1)]
    files += [paths.epoch_file(wc, e, "train.json") for e in range(1, n + 1)]
    return files


def epoch_group(wc):
    """With `group_epochs: true`, one cluster job runs all stages of one epoch (of one span
    of epochs with `epochs_per_job` > 1: the span's job and its evaluations).

    The SLURM executor polls job states every 40 s or more, so six tiny jobs per epoch would
    wait longer than they run; one group per epoch keeps jobs short enough for walltimes.
    """
    if not config.get("group_epochs", False):
        return None
    experiment = f"{wc.setting}-{wc.task}-{wc.variant}-seed{wc.seed}"
    if EPOCHS_PER_JOB == 1:
        return f"{experiment}-epoch{wc.epoch}"
    return f"{experiment}-epochs{SPAN_OF_EPOCH[wc.setting, int(wc.epoch)].name}"


def span_group(span):
    """The `group:` of a span's job: the one its evaluations join (see epoch_group)."""

    def group(wc):
        return epoch_group(wf.epoch_wildcards(wc, span.last))

    return group


def start_group(wc):
    """With `group_epochs: true`, the shared first-epoch stages of one start model go as one
    cluster job (see epoch_group)."""
    if not config.get("group_epochs", False):
        return None
    return wf.start_group_name(wc.start, wc.target)


# With `epochs_per_job` > 1, one job runs a span of epochs (rules/epoch_span.smk) and asks
# the one-epoch functions above about each of its epochs.
EPOCHS_PER_JOB = wf.epochs_per_job(config)
EPOCH_SPANS = wf.epoch_spans(config) if EPOCHS_PER_JOB > 1 else []
# (setting, epoch) -> its span, for the group function Snakemake calls twice per job.
SPAN_OF_EPOCH = {(s.setting, e): s for s in EPOCH_SPANS for e in s.epochs}


def span_inputs(span):
    """Inputs of a span's job: what its first epoch's two one-epoch jobs read from outside."""

    def inputs(wc):
        first = wf.epoch_wildcards(wc, span.first)
        labels = pseudo_labels_inputs(first)
        return {
            "model": previous_checkpoint(first),
            "features": features_of_epoch(first),
            "clustered": labels["clustered"],
            "first_clusters": labels["first_clusters"],
            "data": labels["data"],
        }

    return inputs


def span_settings(span):
    """Params of a span's job: each epoch's pseudo_labels and finetune params, in order."""

    def params(wc):
        epochs = []
        for epoch in span.epochs:
            one = wf.epoch_wildcards(wc, epoch)
            epochs.append(
                {
                    "epoch": epoch,
                    **pseudo_labels_settings(one),
                    **finetune_settings(one),
                }
            )
        return {"epochs": epochs}

    return params


def span_outputs(span):
    """Every epoch's labels, stats and record; the checkpoints kept for good (evaluated,
    keep_checkpoints_every) and the last one, which the next span reads (temporary unless
    kept); the features the last epoch extracted (kept at the setting's final epoch, as
    finetune_final keeps them). Named `<file>_<epoch>` for the span's script."""
    final = num_epochs(span.setting)
    outputs = {}
    for epoch in span.epochs:
        folder = f"{paths.EXPERIMENT}/epoch_{epoch:03d}"
        outputs[f"labels_{epoch:03d}"] = f"{folder}/refined.npz"
        outputs[f"stats_{epoch:03d}"] = f"{folder}/refine.json"
        outputs[f"record_{epoch:03d}"] = f"{folder}/train.json"
        if epoch in KEPT_EPOCHS:
            outputs[f"model_{epoch:03d}"] = f"{folder}/model.pt"
        elif epoch == span.last:
            outputs[f"model_{epoch:03d}"] = temp(f"{folder}/model.pt")
    features = f"{paths.EXPERIMENT}/epoch_{span.last:03d}/features_after.npz"
    outputs[f"features_{span.last:03d}"] = (
        features if span.last == final else temp(features)
    )
    return outputs


def span_evaluations(span):
    """The epochs of a span that are evaluated (none, or some: eval_every)."""
    evaluated = set(eval_epochs(span.setting))
    return [epoch for epoch in span.epochs if epoch in evaluated]


def span_evaluation_inputs(span):
    """Inputs of a span's evaluation job: its evaluated checkpoints, in epoch order."""

    def inputs(wc):
        return {
            "models": [checkpoint_of(wc, epoch) for epoch in span_evaluations(span)],
            "data": target_summary(wc),
        }

    return inputs


def span_evaluation_settings(span):
    """Params of a span's evaluation job: each evaluated epoch's evaluate params."""

    def params(wc):
        return {
            "epochs": [
                settings(wf.epoch_wildcards(wc, epoch), "evaluate")
                for epoch in span_evaluations(span)
            ]
        }

    return params


def span_evaluation_outputs(span):
    return [
        f"{paths.EXPERIMENT}/epoch_{epoch:03d}/eval.json"
        for epoch in span_evaluations(span)
    ]


# One evaluation job per checkpoint, or one per span (rules/epoch_span.smk).
EVALUATED_ONE_BY_ONE = r"\d{3}" if EPOCHS_PER_JOB == 1 else wf.epoch_pattern([])


# The rules' `group:`. Without grouping there is no function at all: Snakemake calls a group
# function (with its per-call overhead) twice for every job, only to get None back.
EPOCH_GROUP = epoch_group if config.get("group_epochs", False) else None
START_GROUP = start_group if config.get("group_epochs", False) else None

# Grouped jobs must ask for the same GPU resources, so CPU-only stages ask for the GPU too.
CPU_STAGE_GPU = config["gpu_per_job"] if config.get("group_epochs", False) else 0


def unknown_target(path):
    """Input of the catch-all rules: one line naming the known targets, then stop."""
    targets.fail_unknown(
        path, config, VARIANTS, [r.name for r in workflow.rules], wf.FIGURES
    )
