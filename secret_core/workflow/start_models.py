"""Where the model an experiment starts from lives, and the first-epoch files every variant
starting from it shares (paths name what determines them)."""

from __future__ import annotations

from collections.abc import Mapping

from secret_core.workflow.datasets import target_dataset

START_PATTERN = r"pretrain/[A-Za-z0-9_]+/bn_[A-Za-z0-9_]+/seed\d+|init/seed\d+"


def start_dir(config: Mapping, setting: str, task: str, seed: int | str) -> str:
    """Folder of the model every experiment of (setting, task, seed) starts from."""
    if setting == "uda":
        return source_model_dir(config, task, seed)
    return f"results/init/seed{seed}"


def start_target_dir(config: Mapping, setting: str, task: str, seed: int | str) -> str:
    """What every variant starting from the same model computes alike, done once.

    The epoch-0 evaluation, the first epoch's features (the start model's, which is also
    the first teacher) and their clusterings depend only on the start model, the target and
    the extraction/cluster settings, not on the variant: they live beside the start model,
    one folder per target, and every experiment reads them from there.
    """
    target = target_dataset(config, setting, task)
    return f"{start_dir(config, setting, task, seed)}/target_{target}"


def source_model_dir(config: Mapping, task: str, seed: int | str) -> str:
    """Folder of the source model that task ``task`` starts from (see ``layout``).

    With ``pretrain.target_bn`` (the authors' pre-training) a batch of the task's target
    images is forwarded at every iteration so BatchNorm's statistics also describe the
    target: the model belongs to the (source, target) pair. Without it the model depends on
    the source only and every task with that source shares it.
    """
    from secret_core.workflow.layout import source_model_dir as folder

    entry = config["tasks"][task]
    bn_domain = entry["target"] if config["pretrain"].get("target_bn", True) else entry["source"]
    return folder(entry["source"], bn_domain, seed)


def start_group_name(start: str, target: str) -> str:
    """The cluster-job group of one start model's shared first epoch (``group_epochs``)."""
    return f"start-{start.replace('/', '-')}-{target}"
