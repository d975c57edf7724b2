"""Pseudo labels by clustering: sparse k-reciprocal Jaccard distance + DBSCAN."""

from secret_core.clustering.dbscan import choose_eps, cluster
from secret_core.clustering.jaccard import jaccard_distance
from secret_core.clustering.knn import knn

__all__ = ["choose_eps", "cluster", "jaccard_distance", "knn"]
