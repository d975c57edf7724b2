"""Mutual refinement of pseudo labels (paper Algorithms 1 and 2) and label-quality metrics.

``reindex`` is exported for the pipeline, which renumbers unrefined label sets the same way.
"""

from secret_core.refinement.labels import reindex
from secret_core.refinement.mutual import eliminate_noisy, mutual_refine
from secret_core.refinement.quality import (
    clean_members,
    consistency,
    label_accuracy,
    label_stats,
    overall_consistency,
)

__all__ = [
    "clean_members",
    "consistency",
    "eliminate_noisy",
    "label_accuracy",
    "label_stats",
    "mutual_refine",
    "overall_consistency",
    "reindex",
]
