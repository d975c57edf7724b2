"""DBSCAN on the sparse Jaccard graph gives the labels of DBSCAN on the dense matrix."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import DBSCAN
from test_clustering_jaccard import blobs, densify

from secret_core.clustering import cluster, jaccard_distance
from secret_core.errors import SecretError

FEATURES = blobs(400, 16, 24, 0.5, seed=11)


@pytest.fixture(scope="module")
def distance() -> sp.csr_matrix:
    return jaccard_distance(FEATURES, 20, 6, device="cpu")


def dense_dbscan(dist: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    return DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(dist)


@pytest.mark.parametrize("eps", [0.2, 0.4, 0.55, 0.7, 0.9])
@pytest.mark.parametrize("min_samples", [2, 4])
def test_labels_equal_dense_dbscan(distance, eps, min_samples):
    labels = cluster(None, eps, min_samples, distance=distance)
    assert labels.dtype == np.int64
    assert np.array_equal(labels, dense_dbscan(densify(distance), eps, min_samples))


def test_computes_the_distance_when_not_given(distance):
    labels = cluster(FEATURES, 0.55, 4, 20, 6, device="cpu")
    assert np.array_equal(labels, cluster(FEATURES, 0.55, 4, distance=distance))
    assert labels.max() >= 5


def test_max_distance_below_one_changes_no_label(distance):
    cut = jaccard_distance(FEATURES, 20, 6, device="cpu", max_distance=0.8)
    for eps in (0.4, 0.7):
        assert np.array_equal(
            cluster(None, eps, distance=cut), cluster(None, eps, distance=distance)
        )


def test_explicit_zeros_are_neighbours():
    """Four copies of a point (pairwise distance 0, stored) form a cluster at min_samples 4;
    dropping the stored zeros would leave four outliers."""
    rows, cols = np.nonzero(~np.eye(4, dtype=bool))
    dist = sp.csr_matrix((np.zeros(rows.size, np.float32), (rows, cols)), shape=(6, 6))
    assert dist.nnz == 12  # the zeros are stored, no diagonal
    labels = cluster(None, 0.1, 4, distance=dist)
    assert labels.tolist() == [0, 0, 0, 0, -1, -1]


def test_eps_compares_like_float64():
    """float32(0.3) is slightly above 0.3: at eps = 0.3 it is no neighbour, as in the dense
    float64 matrix; at eps = float32(0.3) it is."""
    rows, cols = np.nonzero(~np.eye(3, dtype=bool))
    dist = sp.csr_matrix((np.full(rows.size, 0.3, np.float32), (rows, cols)), shape=(3, 3))
    assert cluster(None, 0.3, 3, distance=dist).tolist() == [-1, -1, -1]
    assert cluster(None, float(np.float32(0.3)), 3, distance=dist).tolist() == [0, 0, 0]
    assert np.array_equal(cluster(None, 0.3, 3, distance=dist), dense_dbscan(densify(dist), 0.3, 3))


@pytest.mark.parametrize("eps", [0.0, -0.1, 1.0, 1.5])
def test_eps_outside_zero_one_raises(distance, eps):
    with pytest.raises(SecretError, match="eps"):
        cluster(None, eps, distance=distance)


def test_bad_inputs_raise(distance):
    with pytest.raises(SecretError, match="min_samples"):
        cluster(None, 0.5, 0, distance=distance)
    with pytest.raises(SecretError, match="features or a precomputed distance"):
        cluster(None, 0.5)
    with pytest.raises(SecretError, match="N x N"):
        cluster(FEATURES[:10], 0.5, distance=distance)
    with pytest.raises(SecretError, match="sparse"):
        cluster(None, 0.5, distance=densify(distance))


def test_recovers_well_separated_blobs():
    feats = blobs(200, 16, 5, 0.05, seed=3)
    labels = cluster(feats, eps=0.5, min_samples=4, k1=15, k2=4, device="cpu")
    assert sorted(set(labels.tolist()) - {-1}) == [0, 1, 2, 3, 4]
