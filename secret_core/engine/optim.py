"""Optimiser of the recipe (Adam with weight decay), learning-rate setting, and the Adam
moments a target epoch may carry over to the next.

Why carry them at all: the first step of a fresh Adam moves every weight by the full learning
rate whatever its gradient (its bias-corrected moments are then g and g**2, a sign step), and
the next ~10 steps stay well above the steady size. The authors build a fresh Adam every
target epoch of 400 iterations, where that restart is a few percent of an epoch's movement;
in an epoch of ~44 iterations it adds about 40 % (docs/DEMO_EFFECT.md, section 37).
"""

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


# Parameters made anew every target epoch (resized, started from refined centroids): their
# moments never carry over.
CLASSIFIER_PART = ".classifier."


def adam_moments(optimizer: torch.optim.Optimizer, model: nn.Module) -> dict[str, dict]:
    """The optimiser's state of every parameter of ``model`` except the classifiers, by
    parameter name, as CPU tensors (what a weights-only checkpoint can hold)."""
    names = {id(p): name for name, p in model.named_parameters()}
    out: dict[str, dict] = {}
    for param, state in optimizer.state.items():
        name = names.get(id(param))
        if name is None or CLASSIFIER_PART in name or not state:
            continue
        out[name] = {
            key: torch.as_tensor(value).detach().cpu().clone() for key, value in state.items()
        }
    return out


def restore_adam_moments(
    optimizer: torch.optim.Optimizer, model: nn.Module, moments: dict[str, dict]
) -> int:
    """Give each parameter of ``model`` the saved state of the same name and shape (never a
    classifier's); return how many got one. Build ``optimizer`` after resizing the
    classifiers, as :func:`build_optimizer` says."""
    handled = {id(p) for group in optimizer.param_groups for p in group["params"]}
    restored = 0
    for name, param in model.named_parameters():
        saved = moments.get(name)
        if saved is None or CLASSIFIER_PART in name or id(param) not in handled:
            continue
        if saved["exp_avg"].shape != param.shape:
            continue
        optimizer.state[param] = {
            # Adam keeps its step count on the CPU; the moments live beside the parameter
            key: value.clone() if key == "step" else value.to(param.device, copy=True)
            for key, value in saved.items()
        }
        restored += 1
    return restored


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (schedules are computed per iteration)."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)
