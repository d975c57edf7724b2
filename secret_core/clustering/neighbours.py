"""k-reciprocal neighbour sets and their 1/2-expansion (Zhong et al., CVPR 2017), as sparse sets.

Row i of each N x N matrix here marks a set of samples (value 1, everything else absent), so a
set operation over all N samples is one sparse product or element-wise product in C, and
memory grows with N * k, never with N^2.

Conventions follow the UDA Re-ID literature's ``compute_jaccard_distance`` exactly: the kNN
list holds k1 entries including the sample itself, the forward set of size k is
``rank[i, :k + 1]`` (so at most k1 entries for k = k1), and the half size is
``round(k1 / 2)`` with NumPy's round-half-to-even.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def forward_sets(rank: np.ndarray, k: int) -> sp.csr_matrix:
    """F[i, j] = 1 when j is among the first k + 1 entries of i's neighbour list."""
    n = rank.shape[0]
    width = min(k + 1, rank.shape[1])
    cols = np.sort(rank[:, :width], axis=1)  # sorted rows make the matrix canonical
    indptr = np.arange(0, n * width + 1, width, dtype=np.int64)
    data = np.ones(n * width, dtype=np.float32)
    return sp.csr_matrix((data, cols.ravel(), indptr), shape=(n, n))


def reciprocal_sets(rank: np.ndarray, k: int) -> sp.csr_matrix:
    """R(i) = {j in F_k(i) : i in F_k(j)}: the k-reciprocal neighbours (i itself included)."""
    forward = forward_sets(rank, k)
    return forward.multiply(forward.T).tocsr()


def half_size(k1: int) -> int:
    """The k of the expansion sets, rounded like the literature (``int(np.around(k1 / 2))``)."""
    return int(np.around(k1 / 2))


def expanded_sets(rank: np.ndarray, k1: int) -> sp.csr_matrix:
    """R*(i) = R(i) plus R_half(c) for every c in R(i) with |R(i) ∩ R_half(c)| > 2/3 |R_half(c)|.

    The expansion adds positives that are reciprocal to a trusted neighbour but missed by the
    strict k1-reciprocal test. The threshold is computed as ``2 / 3 * size`` in float64, as
    the literature does, so that ties round the same way.
    """
    full = reciprocal_sets(rank, k1)
    half = reciprocal_sets(rank, half_size(k1))
    half_sizes = np.diff(half.indptr)
    # overlap[i, c] = |R(i) ∩ R_half(c)|, kept only for candidates c in R(i)
    overlap = full.multiply(full @ half.T).tocsr()
    threshold = 2 / 3 * half_sizes[overlap.indices].astype(np.float64)
    chosen = overlap.copy()
    chosen.data = (overlap.data > threshold).astype(np.float32)
    chosen.eliminate_zeros()
    expanded = (full + chosen @ half).tocsr()
    expanded.data[:] = 1.0
    expanded.sort_indices()
    return expanded
