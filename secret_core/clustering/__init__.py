"""Pseudo labels by clustering: sparse k-reciprocal Jaccard distance, its eps, and DBSCAN.

Nothing here allocates an N x N array, so the same code clusters MSMT17's 32,621 images in
well under 1.5 GiB. ``knn`` is exported for the benchmarks (the raw search is the floor of
the whole step).
"""

from secret_core import MAX_DISTANCE
from secret_core.clustering.cut import clustering_distance, cut_for_eps
from secret_core.clustering.dbscan import cluster
from secret_core.clustering.eps import choose_eps, rho_for_size
from secret_core.clustering.jaccard import jaccard_distance, reciprocal_encoding
from secret_core.clustering.knn import knn

__all__ = [
    "MAX_DISTANCE",
    "choose_eps",
    "cluster",
    "clustering_distance",
    "cut_for_eps",
    "jaccard_distance",
    "knn",
    "reciprocal_encoding",
    "rho_for_size",
]
