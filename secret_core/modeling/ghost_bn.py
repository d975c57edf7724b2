"""Ghost batch norm: batch statistics over groups of a batch, as multi-GPU DataParallel does.

The authors trained on 4 GPUs with ``nn.DataParallel``: every replica normalises its own
quarter of the batch (16 of 64 images), and only the replica on the first GPU writes its
running statistics back to the model. Peers report clearly worse results when the recipe runs
on one GPU with full-batch statistics; this module reproduces the 4-GPU behaviour on any
device so the two can be compared.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from secret_core.errors import SecretError

GHOST_SCOPES = ("all", "neck")


def _ghost_forward(
    bn: nn.modules.batchnorm._BatchNorm,
    x: torch.Tensor,
    groups: int,
    plain: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Normalise each of ``groups`` chunks (``Tensor.chunk``, DataParallel's split) with its
    own statistics; only the first chunk updates the running statistics (replica 0)."""
    if not bn.training or groups <= 1 or x.shape[0] <= 1:
        return plain(x)
    chunks = x.chunk(groups)
    first = plain(chunks[0])
    rest = [
        F.batch_norm(chunk, None, None, bn.weight, bn.bias, training=True, eps=bn.eps)
        for chunk in chunks[1:]
    ]
    return torch.cat([first, *rest])


class GhostBatchNorm1d(nn.BatchNorm1d):
    """``BatchNorm1d`` with per-group training statistics; same state-dict keys."""

    def __init__(self, num_features: int, groups: int, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        self.groups = int(groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ghost_forward(self, x, self.groups, super().forward)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, groups={self.groups}"


class GhostBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` with per-group training statistics; same state-dict keys."""

    def __init__(self, num_features: int, groups: int, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        self.groups = int(groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ghost_forward(self, x, self.groups, super().forward)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, groups={self.groups}"


_GHOST_OF = {nn.BatchNorm1d: GhostBatchNorm1d, nn.BatchNorm2d: GhostBatchNorm2d}


def _to_ghost(bn: nn.modules.batchnorm._BatchNorm, groups: int) -> nn.Module:
    """A ghost copy of ``bn`` with its weights, statistics, device and frozen flags."""
    ghost = _GHOST_OF[type(bn)](
        bn.num_features,
        groups,
        eps=bn.eps,
        momentum=bn.momentum,
        affine=bn.affine,
        track_running_stats=bn.track_running_stats,
    )
    ghost.load_state_dict(bn.state_dict())
    ref = bn.weight if bn.weight is not None else bn.running_mean
    if ref is not None:
        ghost.to(device=ref.device)
    for name, param in bn.named_parameters():
        getattr(ghost, name).requires_grad_(param.requires_grad)
    ghost.train(bn.training)
    return ghost


def convert_ghost_bn(module: nn.Module, groups: int) -> int:
    """Replace every plain ``BatchNorm1d``/``BatchNorm2d`` inside ``module`` (in place) by its
    ghost version with ``groups`` groups; returns how many layers were replaced."""
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise SecretError(
            f"config key 'model.bn_groups': must be a positive integer (4 = the authors' "
            f"4 GPUs, 1 = plain BN), got {groups!r}"
        )
    replaced = 0
    for name, child in module.named_children():
        if type(child) in _GHOST_OF:
            setattr(module, name, _to_ghost(child, groups))
            replaced += 1
        else:
            replaced += convert_ghost_bn(child, groups)
    return replaced
