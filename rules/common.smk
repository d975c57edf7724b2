# Helpers shared by the rule files (config validation, variants, settings, paths).

from snakemake.utils import validate

from secret_core import provenance
import secret_core.workflow as wf
from secret_core.workflow import layout as paths, targets

wf.validate_config(config, workflow.source_path("../config/schema.yaml"), validate)
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

# Every input, params and group function below runs once per job (about 20,000 with the
# paper's config): what they derive from the config alone is computed once, here.
PLAN = wf.Planner(config, VARIANTS)

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


def features_to_cluster(wc):
    """What pseudo_labels clusters: nothing at epoch 1 (the shared clusterings are read)."""
    if int(wc.epoch) == 1:
        return []
    return features_of_epoch(wc)


def next_extract_settings(wc):
    """The extraction params of a finetune job: those of the epoch its features serve."""
    return settings(
        {**dict(wc.items()), "epoch": f"{int(wc.epoch) + 1:03d}"}, "extract"
    )


def shared_clusterings(wc):
    """Epoch 1's labels per clustered space: the start model's, made once by cluster_start."""
    if int(wc.epoch) != 1:
        return []
    return [shared_file(wc, f"labels_{space}.npy") for space in clustered_spaces(wc)]


def first_cluster_stats(wc):
    """The start model's clustering stats per space: epoch 1's own, and the eps that later
    epochs reuse (``adapt.eps: auto``)."""
    return [shared_file(wc, f"cluster_{space}.json") for space in clustered_spaces(wc)]


def cluster_settings(wc):
    """The clustering params of pseudo_labels; none at epoch 1, which clusters nothing."""
    if int(wc.epoch) == 1:
        return {}
    return settings(wc, "cluster")


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
    """With `group_epochs: true`, one cluster job runs all stages of one epoch.

    The SLURM executor polls job states every 40 s or more, so six tiny jobs per epoch would
    wait longer than they run; one group per epoch keeps jobs short enough for walltimes.
    """
    if not config.get("group_epochs", False):
        return None
    return f"{wc.setting}-{wc.task}-{wc.variant}-seed{wc.seed}-epoch{wc.epoch}"


def start_group(wc):
    """With `group_epochs: true`, the shared first-epoch stages of one start model go as one
    cluster job (see epoch_group)."""
    if not config.get("group_epochs", False):
        return None
    return wf.start_group_name(wc.start, wc.target)


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
