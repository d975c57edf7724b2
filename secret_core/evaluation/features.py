"""Evaluation straight from features, with distances computed one chunk of queries at a time."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.evaluation.distance import FEATURES, concatenated, feature_distance
from secret_core.evaluation.metrics import evaluate


def rerank_space(feats: Mapping[str, np.ndarray], feature: str, eta: float) -> np.ndarray:
    """Features whose squared Euclidean distance re-ranking uses.

    Joint: the concatenation [global, sqrt(eta) top, sqrt(eta) bottom], whose squared
    distance is d_g^2 + eta (d_t^2 + d_b^2), the squared-distance analogue of Eq. 3.
    """
    if feature == "concat":
        return concatenated(feats)
    if feature != "joint":
        return np.asarray(feats[feature], dtype=np.float32)
    scale = np.sqrt(max(float(eta), 0.0))
    parts = [
        np.asarray(feats[b], dtype=np.float32) * (1.0 if b == "global" else scale) for b in BRANCHES
    ]
    return np.concatenate(parts, axis=1)


def evaluate_features(
    query_feats: Mapping[str, np.ndarray],
    gallery_feats: Mapping[str, np.ndarray],
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray,
    g_camids: np.ndarray,
    feature: str = "global",
    eta: float = 1.0,
    rerank: bool = False,
    max_rank: int = 50,
    chunk_size: int = 256,
    distance: str = "euclidean",
) -> dict:
    """Metrics of one inference feature (global, top, bottom, joint with ``eta``, or concat).

    The query x gallery distance matrix is never built whole: ``evaluate`` asks for
    ``chunk_size`` query rows at a time. With ``rerank`` the rows come from k-reciprocal
    re-ranking (k1 = 20, k2 = 6, lambda = 0.3), also chunked; re-ranking always works on
    squared distances (see ``rerank_space``), so ``distance`` (the per-space metric of
    :func:`feature_distance`, ``evaluation.distance``) applies without it.
    """
    if feature not in FEATURES:
        raise SecretError(f"inference feature '{feature}' is not one of {', '.join(FEATURES)}")
    needed = BRANCHES if feature in ("joint", "concat") else (feature,)
    for side, feats in (("query", query_feats), ("gallery", gallery_feats)):
        missing = [b for b in needed if b not in feats]
        if missing:
            raise SecretError(f"{side} features lack {', '.join(missing)} (needed for '{feature}')")
    if rerank:
        from secret_core.evaluation.rerank import re_ranking_rows

        rows = re_ranking_rows(
            rerank_space(query_feats, feature, eta), rerank_space(gallery_feats, feature, eta)
        )
    else:

        def rows(start: int, stop: int) -> np.ndarray:
            q = {b: query_feats[b][start:stop] for b in needed}
            return feature_distance(q, gallery_feats, feature, eta, distance)

    return evaluate(rows, q_pids, g_pids, q_camids, g_camids, max_rank, chunk_size=chunk_size)
