"""Re-ID evaluation: distances, mAP / CMC / mINP, re-ranking and rank-list pictures."""

from secret_core.evaluation.distance import (
    FEATURES,
    feature_distance,
    joint_distance,
    pairwise_distance,
)
from secret_core.evaluation.features import evaluate_features
from secret_core.evaluation.metrics import evaluate
from secret_core.evaluation.ranklist import draw_rank_list

__all__ = [
    "FEATURES",
    "draw_rank_list",
    "evaluate",
    "evaluate_features",
    "feature_distance",
    "joint_distance",
    "pairwise_distance",
]
