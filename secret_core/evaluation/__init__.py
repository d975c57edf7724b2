"""Re-ID evaluation: distances, mAP / CMC / mINP, re-ranking and rank-list pictures.

Modules import no torch: evaluation runs on numpy features saved by the extraction step.
The names below load on first use (PEP 562): an evaluate job without re-ranking never needs
scipy's sparse matrices or the k-reciprocal code (~0.2 s of every evaluated epoch), nor PIL.
"""

from secret_core.lazy import lazy_names

__all__ = [
    "FEATURES",
    "concatenated",
    "draw_rank_list",
    "evaluate",
    "evaluate_features",
    "feature_distance",
    "joint_distance",
    "pairwise_distance",
    "re_ranking",
    "re_ranking_rows",
]
__getattr__ = lazy_names(
    __name__,
    {
        "FEATURES": "distance",
        "concatenated": "distance",
        "feature_distance": "distance",
        "joint_distance": "distance",
        "pairwise_distance": "distance",
        "evaluate_features": "features",
        "evaluate": "metrics",
        "draw_rank_list": "ranklist",
        "re_ranking": "rerank",
        "re_ranking_rows": "rerank",
    },
)
