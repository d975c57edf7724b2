"""Optimiser of the recipe (Adam with weight decay) and learning-rate setting."""

from __future__ import annotations

import torch
from torch import nn


def build_optimizer(
    model: nn.Module, lr: float = 3.5e-4, weight_decay: float = 5e-4
) -> torch.optim.Adam:
    """Adam over the trainable parameters only (the BN-neck bias is frozen at 0).

    Build it after resizing the classifiers: a resized classifier is a new parameter that an
    older optimiser would not update (the authors build a fresh Adam every target epoch).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (schedules are computed per iteration)."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)
