"""DBSCAN on the sparse Jaccard graph and the data-driven choice of its eps."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import DBSCAN

from secret_core.clustering.jaccard import jaccard_distance


def cluster(
    features: np.ndarray,
    eps: float,
    min_samples: int = 4,
    k1: int = 30,
    k2: int = 6,
    *,
    distance: sp.csr_matrix | None = None,
    device: str = "auto",
) -> np.ndarray:
    """Pseudo labels 0..C-1 and -1 for outliers.

    scikit-learn treats the stored entries of a sparse precomputed matrix as the candidate
    neighbours, so pairs at distance 1 (not stored) are never neighbours — right for any
    eps < 1 — and the stored zeros make each sample its own neighbour.
    """
    if distance is None:
        distance = jaccard_distance(features, k1, k2, device=device)
    model = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed", n_jobs=-1)
    return model.fit_predict(distance).astype(np.int64)


def choose_eps(distance: sp.csr_matrix, rho: float = 1.6e-3) -> float:
    """Mean of the smallest ``rho`` fraction of the non-zero upper-triangle distances.

    As the authors compute it on the dense matrix, where the unstored pairs are 1: if fewer
    than the needed number of pairs are stored below 1, the rest of the mean is ones.
    """
    n = distance.shape[0]
    upper = sp.triu(distance, k=1).tocoo()
    values = upper.data
    zeros = int(np.count_nonzero(values == 0))
    nonzero_values = values[values > 0]
    count = n * (n - 1) // 2 - zeros
    top = int(np.round(rho * count))
    if top <= 0:
        return float(np.min(nonzero_values)) if nonzero_values.size else 1.0
    if nonzero_values.size >= top:
        smallest = np.partition(nonzero_values, top - 1)[:top]
        return float(np.mean(smallest, dtype=np.float64))
    padded = np.sum(nonzero_values, dtype=np.float64) + (top - nonzero_values.size)
    return float(padded / top)
