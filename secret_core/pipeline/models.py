"""Building, loading and saving the multi-branch network for the workflow stages."""

from __future__ import annotations

from typing import Any

import torch

from secret_core.device import resolve_device
from secret_core.engine import MeanTeacher, load_checkpoint, load_model_state
from secret_core.errors import SecretError
from secret_core.modeling import SecretNet, build_model


def ghost_groups(model_cfg: dict[str, Any]) -> int | None:
    """``model.bn_groups`` as ``build_model`` takes it: None for plain BN (1 group).

    Ghost BN changes training-mode statistics only (the authors' 4-GPU DataParallel: each
    replica normalises its quarter of the batch); state-dict keys and eval-mode outputs are
    those of plain BN, so checkpoints load either way and extraction is unaffected.
    """
    groups = model_cfg.get("bn_groups", 1)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise SecretError(
            f"config key 'model.bn_groups': must be an integer >= 1 (1 = plain BN, "
            f"4 = the authors' 4 GPUs), got {groups!r}"
        )
    return groups if groups > 1 else None


def new_model(model_cfg: dict[str, Any], num_classes: int | dict[str, int] = 0) -> SecretNet:
    """The network as the config describes it, with its configured initialisation."""
    return build_model(
        arch=model_cfg["arch"],
        num_classes=num_classes,
        init=model_cfg.get("init", "none"),
        last_stride=int(model_cfg.get("last_stride", 1)),
        ghost_bn_groups=ghost_groups(model_cfg),
    )


def restore(
    model_cfg: dict[str, Any],
    checkpoint_path: str,
    device: torch.device,
    with_teacher: bool = False,
    momentum: float = 0.999,
) -> tuple[SecretNet, MeanTeacher | None, dict]:
    """Load a checkpoint's student (and teacher, created from the student when absent).

    The teacher of epoch 1 is a copy of the source model: the authors' EMA decay starts at 0,
    so the first update makes the teacher equal to the student anyway. ``momentum`` is the
    teacher's EMA momentum (``adapt.momentum``); ``model.bn_groups`` applies to both nets.
    """
    state = load_checkpoint(checkpoint_path)
    model = build_model(
        arch=model_cfg["arch"],
        num_classes=0,
        init="none",
        last_stride=int(model_cfg.get("last_stride", 1)),
        ghost_bn_groups=ghost_groups(model_cfg),
    )
    load_model_state(model, state["model"])
    model.to(device)
    teacher = None
    if with_teacher:
        teacher = MeanTeacher(model, momentum=momentum)
        if state.get("teacher") is not None:
            load_model_state(teacher.model, state["teacher"])
        teacher.model.to(device)
    return model, teacher, state


def runtime_device(settings: dict[str, Any]) -> torch.device:
    return resolve_device(settings.get("device", "auto"))
