"""Mutual refinement of pseudo labels and label-quality metrics."""

from secret_core.refinement.mutual import eliminate_noisy, mutual_refine, reindex
from secret_core.refinement.quality import (
    consistency,
    label_accuracy,
    label_stats,
    overall_consistency,
)

__all__ = [
    "consistency",
    "eliminate_noisy",
    "label_accuracy",
    "label_stats",
    "mutual_refine",
    "overall_consistency",
    "reindex",
]
