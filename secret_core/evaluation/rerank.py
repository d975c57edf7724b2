"""k-reciprocal re-ranking at test time, memory-bounded.

final = lambda * d_original + (1 - lambda) * d_jaccard, where d_jaccard is the sparse
k-reciprocal Jaccard distance over query and gallery together (the clustering code's
implementation, k1 = 20, k2 = 6 by default) and d_original the Euclidean distance of the
chosen feature. The result is returned as a function of a block of query rows, so the full
query x gallery matrix is never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from secret_core.clustering.jaccard import jaccard_distance
from secret_core.evaluation.distance import feature_distance


def _rerank_space(feats: Mapping[str, np.ndarray], feature: str) -> np.ndarray:
    """Features whose neighbourhoods the Jaccard part uses (joint: concatenation)."""
    if feature != "joint":
        return np.asarray(feats[feature], dtype=np.float32)
    joined = np.concatenate([feats[b] for b in ("global", "top", "bottom")], axis=1)
    return (joined / np.linalg.norm(joined, axis=1, keepdims=True)).astype(np.float32)


def re_ranking(
    query_feats: Mapping[str, np.ndarray],
    gallery_feats: Mapping[str, np.ndarray],
    feature: str = "global",
    eta: float = 1.0,
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
) -> Callable[[int, int], np.ndarray]:
    """A ``(start, stop) -> rows`` provider of re-ranked query-gallery distances."""
    num_q = len(next(iter(query_feats.values())))
    both = np.concatenate(
        [_rerank_space(query_feats, feature), _rerank_space(gallery_feats, feature)]
    )
    jaccard = jaccard_distance(both, k1, k2).tocsr()

    def rows(start: int, stop: int) -> np.ndarray:
        q = {k: v[start:stop] for k, v in query_feats.items()}
        original = feature_distance(q, gallery_feats, feature, eta)
        block = jaccard[start:stop, num_q:]
        dense = np.ones(block.shape, dtype=np.float32)
        coo = block.tocoo()
        dense[coo.row, coo.col] = coo.data
        return lambda_value * original + (1.0 - lambda_value) * dense

    return rows
