"""Evaluation straight from features, with distances computed one chunk of queries at a time."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from secret_core.evaluation.distance import feature_distance
from secret_core.evaluation.metrics import evaluate


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
) -> dict:
    """Metrics of one inference feature (global, top, bottom, joint with ``eta``)."""
    if rerank:
        from secret_core.evaluation.rerank import re_ranking

        rows = re_ranking(query_feats, gallery_feats, feature=feature, eta=eta)
    else:

        def rows(start: int, stop: int) -> np.ndarray:
            q = {k: v[start:stop] for k, v in query_feats.items()}
            return feature_distance(q, gallery_feats, feature, eta)

    return evaluate(rows, q_pids, g_pids, q_camids, g_camids, max_rank, chunk_size=chunk_size)
