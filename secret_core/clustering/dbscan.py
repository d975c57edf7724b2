"""DBSCAN on the sparse Jaccard graph.

scikit-learn's DBSCAN with ``metric="precomputed"`` treats the stored entries of a sparse
matrix as the only candidate neighbours and keeps those with distance <= eps, a sample
counting as its own neighbour. A graph that stores every pair at or below eps (zeros
included; ``cut.cut_for_eps`` says how far it must reach) gives, for 0 < eps < 1, the
neighbourhoods, and hence the labels, of the dense matrix. Before handing the graph over, it
is cut down to the entries <= eps: that changes no neighbourhood but spares scikit-learn from
copying and re-sorting rows of pairs it would never use.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from secret_core.clustering.checks import check_distance
from secret_core.clustering.cut import cut_for_eps, largest_at_most
from secret_core.clustering.jaccard import jaccard_distance
from secret_core.errors import SecretError


def neighbourhood_graph(distance: sp.csr_matrix, eps: float) -> sp.csr_matrix:
    """The entries of ``distance`` that are <= eps (as a float64 comparison), same shape."""
    dist = distance.tocsr()
    if not np.issubdtype(dist.dtype, np.floating):
        dist = dist.astype(np.float64)
    threshold = largest_at_most(eps, dist.dtype)
    kept = np.flatnonzero(dist.data <= threshold)
    indptr = np.searchsorted(kept, dist.indptr).astype(dist.indices.dtype)
    return sp.csr_matrix(
        (dist.data[kept], dist.indices[kept], indptr), shape=dist.shape, dtype=dist.dtype
    )


def cluster(
    features: np.ndarray | None,
    eps: float,
    min_samples: int = 4,
    k1: int = 30,
    k2: int = 6,
    *,
    distance: sp.csr_matrix | None = None,
    device: str = "auto",
) -> np.ndarray:
    """Pseudo labels (int64, 0..C-1 in scikit-learn's discovery order, -1 for outliers).

    ``distance``: a precomputed ``jaccard_distance`` of ``features`` (then ``features`` may be
    None and k1/k2/device are unused). ``eps`` must lie in (0, 1): at eps >= 1 the unstored
    pairs (distance exactly 1) would be neighbours, which a sparse graph cannot express.
    """
    eps = float(eps)
    if not 0.0 < eps < 1.0:
        raise SecretError(f"DBSCAN eps must be in (0, 1) for the Jaccard distance, got {eps}")
    if int(min_samples) < 1:
        raise SecretError(f"DBSCAN min_samples must be >= 1, got {min_samples}")
    if distance is None:
        if features is None:
            raise SecretError("cluster needs features or a precomputed distance")
        distance = jaccard_distance(features, k1, k2, device=device, max_distance=cut_for_eps(eps))
    n = None if features is None else len(features)
    graph = neighbourhood_graph(check_distance(distance, n), eps)
    # Imported here: scikit-learn costs ~1.5 s of start-up, and the torch stages that import
    # this package for the k-reciprocal encoding (evaluation's re-ranking) never cluster.
    from sklearn.cluster import DBSCAN

    model = DBSCAN(eps=eps, min_samples=int(min_samples), metric="precomputed")
    return model.fit_predict(graph).astype(np.int64)
