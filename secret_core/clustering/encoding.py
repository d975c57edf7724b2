"""The k-reciprocal feature V and its local query expansion, as sparse matrices.

V[i, j] is a Gaussian-kernel weight exp(-d(i, j)), d the squared Euclidean distance of the
normalised features, over i's expanded neighbourhood R*(i), normalised to sum 1 (the
literature's softmax). V has about N * |R*| non-zeros, so it is stored sparse; the weights
need d only for those pairs, and most of them are already in the kNN result.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_PAIR_CHUNK = 1 << 12  # pairs whose features are gathered at once (2 x 32 MiB at d = 2048)


def _weights(similarity: np.ndarray) -> np.ndarray:
    """exp(-d) with d = |f_i - f_j|^2 = 2 - 2 f_i.f_j for unit-norm features."""
    return np.exp(-(2.0 - 2.0 * similarity.astype(np.float64)))


def _knn_weights(sims: np.ndarray, rank: np.ndarray) -> sp.csr_matrix:
    """Kernel weights of every (i, kNN of i) pair: the pairs the search already scored."""
    n, k = rank.shape
    rows = np.repeat(np.arange(n), k)
    return sp.csr_matrix((_weights(sims).ravel(), (rows, rank.ravel())), shape=(n, n))


def _pair_weights(features: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Kernel weights of arbitrary pairs, computed in chunks so memory stays bounded."""
    rows, cols = rows.astype(np.intp), cols.astype(np.intp)  # int32 fancy indexing is slow
    out = np.empty(rows.size, dtype=np.float64)
    for start in range(0, rows.size, _PAIR_CHUNK):
        stop = min(start + _PAIR_CHUNK, rows.size)
        dots = np.einsum("ij,ij->i", features[rows[start:stop]], features[cols[start:stop]])
        out[start:stop] = _weights(dots)
    return out


def encode(
    features: np.ndarray, support: sp.csr_matrix, sims: np.ndarray, rank: np.ndarray
) -> sp.csr_matrix:
    """V (float32, rows summing to 1) over the pattern of ``support`` (the expanded sets).

    Weights of pairs found by the kNN search come from its similarities (typically over 90%
    of the pairs); only the rest are computed from the features. Weights are strictly
    positive (d <= 4), so no sparse operation here can drop an entry.
    """
    known = support.multiply(_knn_weights(sims, rank)).tocsr()
    found = known.copy()
    found.data[:] = 1.0
    missing = (support - found).tocoo()  # entries of the support the kNN did not score
    computed = sp.csr_matrix(
        (_pair_weights(features, missing.row, missing.col), (missing.row, missing.col)),
        shape=support.shape,
    )
    weights = (known.astype(np.float64) + computed).tocsr()
    row_sums = np.asarray(weights.sum(axis=1)).ravel()
    weights.data /= np.repeat(row_sums, np.diff(weights.indptr))
    return weights.astype(np.float32)


def query_expand(v: sp.csr_matrix, rank: np.ndarray, k2: int) -> sp.csr_matrix:
    """Row i becomes the mean of the rows of its first k2 neighbours (itself included).

    Averaging over a tiny neighbourhood smooths each encoding before comparing; ``k2 = 1``
    is the identity and skipped, as in the literature. Computed in float64, stored float32.

    The rows are summed first and divided by k2 once: a float64 sum of k2 float32 values is
    exact (in practice), so it does not depend on the order the neighbours are listed in.
    Weighting each term by 1/k2 first rounded every product, so two samples with the same k2
    neighbours in a different rank order (duplicates, tight groups) got encodings differing
    in the last bit, hence a distance of about 1e-8 instead of exactly 0.
    """
    width = min(int(k2), rank.shape[1])
    if width <= 1:
        return v
    n = rank.shape[0]
    indptr = np.arange(0, n * width + 1, width, dtype=np.int64)
    data = np.ones(n * width)
    members = sp.csr_matrix((data, rank[:, :width].ravel(), indptr), shape=(n, n))
    total = (members @ v.astype(np.float64)).tocsr()
    total.data /= width
    return total.astype(np.float32)
