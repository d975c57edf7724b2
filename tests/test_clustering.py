"""Sparse Jaccard distance against a dense reference, DBSCAN on the sparse graph, eps."""

import numpy as np
import pytest
import scipy.sparse as sp
from jaccard_reference import clustered_features, dense_jaccard
from sklearn.cluster import DBSCAN

from secret_core.clustering import choose_eps, cluster, jaccard_distance


def densify(dist: sp.csr_matrix) -> np.ndarray:
    coo = dist.tocoo()
    out = np.ones(dist.shape)
    out[coo.row, coo.col] = coo.data
    return out


@pytest.fixture(scope="module")
def features() -> np.ndarray:
    return clustered_features(360, 24, 30, 0.55, seed=1)


@pytest.fixture(scope="module")
def sparse_and_dense(features):
    return jaccard_distance(features, k1=20, k2=6), dense_jaccard(
        features.astype(np.float64), 20, 6
    )


def test_sparse_equals_dense_reference(sparse_and_dense):
    sparse, dense = sparse_and_dense
    assert isinstance(sparse, sp.csr_matrix)
    assert np.abs(densify(sparse) - dense).max() < 1e-5
    assert (sparse.data < 1).all()
    assert sparse.nnz < 0.5 * dense.size  # only overlapping pairs are stored


def test_symmetric_with_explicit_zero_diagonal(sparse_and_dense):
    sparse, _ = sparse_and_dense
    assert abs(sparse - sparse.T).max() < 1e-6
    diag = sparse.diagonal()
    assert np.allclose(diag, 0, atol=1e-6)
    assert (sparse.getnnz(axis=1) > 0).all()  # every row stores its own zero


def test_without_query_expansion(features):
    sparse = jaccard_distance(features[:200], k1=10, k2=1)
    dense = dense_jaccard(features[:200].astype(np.float64), 10, 1)
    assert np.abs(densify(sparse) - dense).max() < 1e-5


@pytest.mark.parametrize("eps", [0.3, 0.5, 0.6])
def test_dbscan_on_sparse_graph_equals_dense(features, sparse_and_dense, eps):
    sparse, _ = sparse_and_dense
    labels = cluster(features, eps, min_samples=4, distance=sparse)
    dense = DBSCAN(eps=eps, min_samples=4, metric="precomputed").fit_predict(densify(sparse))
    assert np.array_equal(labels, dense)
    assert labels.max() >= 1 and labels.min() >= -1


def test_cluster_recovers_well_separated_blobs():
    feats = clustered_features(200, 16, 5, 0.05, seed=3)
    labels = cluster(feats, eps=0.5, min_samples=4, k1=15, k2=4)
    assert len(set(labels.tolist()) - {-1}) == 5


def test_choose_eps_matches_dense_computation(sparse_and_dense):
    sparse, _ = sparse_and_dense
    upper = np.triu(densify(sparse), 1)
    values = np.sort(upper[np.nonzero(upper)])
    top = int(np.round(1.6e-3 * values.size))
    assert choose_eps(sparse, 1.6e-3) == pytest.approx(values[:top].mean(), rel=1e-6)
    # a fraction larger than the stored pairs pads with ones (the unstored distances)
    stored = np.sort(sp.triu(sparse, 1).data[sp.triu(sparse, 1).data > 0])
    rho = 0.5
    top = int(np.round(rho * values.size))
    expected = (stored.sum() + (top - stored.size)) / top
    assert choose_eps(sparse, rho) == pytest.approx(expected, rel=1e-6)
