"""Re-ID evaluation: distances, mAP / CMC / mINP, re-ranking and rank-list pictures.

Modules import no torch: evaluation runs on numpy features saved by the extraction step.
"""

from secret_core.evaluation.distance import (
    FEATURES,
    feature_distance,
    joint_distance,
    pairwise_distance,
)
from secret_core.evaluation.features import evaluate_features
from secret_core.evaluation.metrics import evaluate
from secret_core.evaluation.ranklist import draw_rank_list
from secret_core.evaluation.rerank import re_ranking, re_ranking_rows

__all__ = [
    "FEATURES",
    "draw_rank_list",
    "evaluate",
    "evaluate_features",
    "feature_distance",
    "joint_distance",
    "pairwise_distance",
    "re_ranking",
    "re_ranking_rows",
]
