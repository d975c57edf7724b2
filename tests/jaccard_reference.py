"""Dense k-reciprocal Jaccard distance written loop by loop from the published formula.

Test-only: O(N^2) memory, used to check the sparse implementation on small N.
"""

import numpy as np


def k_reciprocal(rank: np.ndarray, i: int, k: int) -> np.ndarray:
    forward = rank[i, : k + 1]
    backward = rank[forward, : k + 1]
    return forward[np.where(backward == i)[0]]


def dense_jaccard(features: np.ndarray, k1: int, k2: int) -> np.ndarray:
    n = len(features)
    sims = features @ features.T
    rank = np.argsort(-sims, axis=1, kind="stable")[:, :k1]
    v = np.zeros((n, n))
    for i in range(n):
        r = k_reciprocal(rank, i, k1)
        expansion = r
        for c in r:
            rc = k_reciprocal(rank, c, int(np.around(k1 / 2)))
            if len(np.intersect1d(rc, r)) > 2 / 3 * len(rc):
                expansion = np.append(expansion, rc)
        expansion = np.unique(expansion)
        d = 2 - 2 * sims[i, expansion]
        w = np.exp(-d)
        v[i, expansion] = w / w.sum()
    if k2 > 1:
        v = np.stack([v[rank[i, :k2]].mean(axis=0) for i in range(n)])
    dist = np.zeros((n, n))
    for i in range(n):
        m = np.minimum(v[i][None, :], v).sum(axis=1)
        dist[i] = 1 - m / (2 - m)
    return dist


def clustered_features(n: int, dim: int, centres: int, spread: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, dim))
    x = c[rng.integers(centres, size=n)] + spread * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)
