"""Where every file of a run lands. A path tells what a file is:

``results/{setting}/{task}/{variant}/seed{seed}/epoch_{epoch}/<file>`` where ``setting`` is
``uda`` (source -> target task) or ``usl`` (fully unsupervised, task = dataset name).
"""

from __future__ import annotations

from typing import Any

EXPERIMENT = "results/{setting}/{task}/{variant}/seed{seed}"
SOURCE_MODEL = "results/pretrain/{source}/bn_{bn_domain}/seed{seed}"
EPOCH_DIR = EXPERIMENT + "/epoch_{epoch}"


def epoch_name(epoch: int) -> str:
    """Three digits so that listings sort in epoch order (the paper runs 80 epochs)."""
    return f"{int(epoch):03d}"


def experiment_dir(setting: str, task: str, variant: str, seed: int | str) -> str:
    return EXPERIMENT.format(setting=setting, task=task, variant=variant, seed=seed)


def source_model_dir(source: str, bn_domain: str, seed: int | str) -> str:
    """Folder of a source-trained model: trained on ``source`` with the BatchNorm statistics
    of ``bn_domain`` (the task's target when pre-training adapts BN to it, else ``source``).

    The path names everything that determines the model, so tasks that share it (same source,
    no target adaptation) share one job, and a model adapted to one target is never used for
    another.
    """
    return SOURCE_MODEL.format(source=source, bn_domain=bn_domain, seed=seed)


def epoch_file(wc: Any, epoch: int, name: str) -> str:
    """Path of ``name`` in epoch ``epoch`` of the experiment named by wildcards ``wc``."""
    fields = _fields(wc)
    return f"{experiment_dir(**fields)}/epoch_{epoch_name(epoch)}/{name}"


def _fields(wc: Any) -> dict[str, str]:
    """The experiment's fields of a mapping or of Snakemake's wildcards (which index by name
    too; called for about two files of every job, so no copy of the wildcards is made)."""
    return {key: str(wc[key]) for key in ("setting", "task", "variant", "seed")}
