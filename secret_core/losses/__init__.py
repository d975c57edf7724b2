"""Losses of SECRET: label-smoothed CE, batch-hard triplet (soft-margin or hinge) and the
mean teacher's soft losses, as plain functions combined by one ``LossConfig`` per stage.

The torch-based parts are imported lazily so that checking a config's loss settings (done
by Snakemake when it loads the workflow) does not pay for importing torch.
"""

from importlib import import_module
from typing import Any

from secret_core.losses.config import (
    AUTHORS_MEAN_TEACHER,
    TRIPLET_KINDS,
    LossConfig,
    check_triplet,
)

_LAZY = {
    "branch_output": "secret_core.losses.combined",
    "branch_target": "secret_core.losses.combined",
    "compute_losses": "secret_core.losses.combined",
    "cross_entropy_smooth": "secret_core.losses.classification",
    "soft_cross_entropy": "secret_core.losses.classification",
    "batch_hard_triplet": "secret_core.losses.triplet",
    "soft_triplet": "secret_core.losses.triplet",
}

__all__ = [
    "AUTHORS_MEAN_TEACHER",
    "TRIPLET_KINDS",
    "LossConfig",
    "batch_hard_triplet",
    "branch_output",
    "branch_target",
    "check_triplet",
    "compute_losses",
    "cross_entropy_smooth",
    "soft_cross_entropy",
    "soft_triplet",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'secret_core.losses' has no attribute {name!r}")
