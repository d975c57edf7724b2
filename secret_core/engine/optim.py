"""Optimiser of the recipe (Adam with weight decay)."""

from __future__ import annotations

import torch
from torch import nn


def build_optimizer(model: nn.Module, lr: float = 3.5e-4, weight_decay: float = 5e-4):
    """Adam over the trainable parameters (the BN-neck bias is frozen at 0)."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
