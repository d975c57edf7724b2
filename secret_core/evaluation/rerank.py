"""k-reciprocal re-ranking (Zhong et al., CVPR 2017) at test time, in bounded memory.

The published code builds dense (Q+G) x (Q+G) matrices: about 35 GB at MSMT17's size. Every
ingredient is sparse or per-row, though, so here:

- one pass over blocks of rows of the squared Euclidean distance finds each item's k1+1
  nearest neighbours and its row maximum (the published code divides each distance row by
  it); no block outlives its step;
- the k-reciprocal sets R(i), their half-size versions and the expanded sets R*(i), and the
  query expansion of the encoding (mean over the k2 nearest rows), are the sparse functions
  clustering uses (``secret_core.clustering.neighbours``, ``.encoding``); only the encoding
  V itself differs: the published re-ranking's kernel is exp(-d / rowmax(d)) on squared
  Euclidean distances of raw features, clustering's exp(-d) on normalised ones;
- the Jaccard distance 1 - m / (2 - m), m = sum_f min(V_if, V_jf), is accumulated only for
  the query rows asked for and the gallery columns, from V's column lists.

Memory is O((Q+G) * k1^2) plus one block of rows; time is dominated by the (Q+G)^2 * dims
distance pass (seconds at Market size, several minutes at MSMT size). Values follow the
published formula in float64 (the published code stores V in float16 to save memory).
``re_ranking`` returns the dense matrix and refuses above ``MAX_DENSE_ENTRIES``;
``re_ranking_rows`` returns a ``(start, stop) -> rows`` provider for ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from secret_core.clustering.encoding import query_expand
from secret_core.clustering.neighbours import expanded_sets
from secret_core.errors import SecretError

MAX_DENSE_ENTRIES = 2**27  # 134M entries = 512 MiB of float32: Market fits, MSMT17 does not
_ROW_BLOCK = 1024  # rows of the (Q+G) x (Q+G) distance matrix held at once


def re_ranking(
    qf: np.ndarray, gf: np.ndarray, k1: int = 20, k2: int = 6, lambda_value: float = 0.3
) -> np.ndarray:
    """Re-ranked (num_query, num_gallery) distances as one float32 array.

    Raises SecretError above ``MAX_DENSE_ENTRIES`` entries: use ``re_ranking_rows`` there.
    """
    nq, ng = len(qf), len(gf)
    if nq * ng > MAX_DENSE_ENTRIES:
        raise SecretError(
            f"re-ranked matrix {nq} x {ng} exceeds {MAX_DENSE_ENTRIES} entries; use "
            "re_ranking_rows (chunked) or evaluate_features(rerank=True)"
        )
    return re_ranking_rows(qf, gf, k1, k2, lambda_value)(0, nq)


def re_ranking_rows(
    qf: np.ndarray, gf: np.ndarray, k1: int = 20, k2: int = 6, lambda_value: float = 0.3
) -> Callable[[int, int], np.ndarray]:
    """A ``(start, stop) -> rows`` provider of re-ranked query-gallery distances:
    lambda * d / rowmax(d) + (1 - lambda) * d_Jaccard, d the squared Euclidean distance."""
    q, g = np.asarray(qf, dtype=np.float32), np.asarray(gf, dtype=np.float32)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1] or not len(q) or not len(g):
        raise SecretError(
            f"re-ranking needs non-empty 2-D features of equal width: {q.shape}, {g.shape}"
        )
    if int(k1) < 1 or int(k2) < 1 or not 0.0 <= lambda_value <= 1.0:
        raise SecretError(
            f"re-ranking needs k1, k2 >= 1 and 0 <= lambda <= 1 (got {k1}, {k2}, {lambda_value})"
        )
    x = np.concatenate([q, g])
    sq = np.einsum("ij,ij->i", x, x)
    nq, n = len(q), len(x)
    rank, row_max = _neighbours(x, sq, min(max(k1 + 1, k2), n))
    v = _encode(x, sq, row_max, expanded_sets(rank, k1))
    v = query_expand(v, rank, k2, dtype=np.float64)
    gallery_by_feature = v[nq:].T.tocsr()  # row f: gallery items j with V_jf > 0

    def rows(start: int, stop: int) -> np.ndarray:
        if not 0 <= start <= stop <= nq:
            raise SecretError(f"re-ranked rows {start}:{stop} outside 0:{nq}")
        original = _sq_dist(x[start:stop], sq[start:stop], x[nq:], sq[nq:])
        original /= row_max[start:stop, None]
        jaccard = _jaccard_rows(v[start:stop], gallery_by_feature, len(g))
        return (lambda_value * original + (1.0 - lambda_value) * jaccard).astype(np.float32)

    return rows


def _sq_dist(a: np.ndarray, sa: np.ndarray, b: np.ndarray, sb: np.ndarray) -> np.ndarray:
    d = (sa[:, None] + sb[None, :] - 2.0 * (a @ b.T)).astype(np.float64)
    return np.maximum(d, 0.0, out=d)


def _neighbours(x: np.ndarray, sq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest items of every item, nearest first (ties by index), and each row's
    maximum distance, from one pass over blocks of distance rows."""
    n = len(x)
    rank = np.empty((n, k), dtype=np.int64)
    row_max = np.empty(n)
    for start in range(0, n, _ROW_BLOCK):
        stop = min(start + _ROW_BLOCK, n)
        d = _sq_dist(x[start:stop], sq[start:stop], x, sq)
        row_max[start:stop] = d.max(axis=1)
        part = (
            np.argpartition(d, k - 1, axis=1)[:, :k]
            if k < n
            else np.tile(np.arange(n), (stop - start, 1))
        )
        vals = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, vals), axis=-1)
        rank[start:stop] = np.take_along_axis(part, order, axis=1)
    if not np.all(row_max > 0):
        raise SecretError("re-ranking: some features are identical to all others (zero distances)")
    return rank, row_max


def _encode(
    x: np.ndarray, sq: np.ndarray, row_max: np.ndarray, support: sp.csr_matrix
) -> sp.csr_matrix:
    """V[i, j] = exp(-d_ij / rowmax_i) normalised over j in R*(i)."""
    coo = support.tocoo()
    weights = np.empty(coo.nnz)
    for start in range(0, coo.nnz, 1 << 18):
        r, c = coo.row[start : start + (1 << 18)], coo.col[start : start + (1 << 18)]
        dots = np.einsum("ij,ij->i", x[r], x[c]).astype(np.float64)
        d = np.maximum(sq[r] + sq[c] - 2.0 * dots, 0.0)
        weights[start : start + len(r)] = np.exp(-d / row_max[r])
    v = sp.csr_matrix((weights, (coo.row, coo.col)), shape=support.shape)
    return (sp.diags(1.0 / np.asarray(v.sum(axis=1)).ravel()) @ v).tocsr()


def _jaccard_rows(v_rows: sp.csr_matrix, gallery_by_feature: sp.csr_matrix, ng: int) -> np.ndarray:
    """1 - m / (2 - m), m_ij = sum_f min(V_if, V_jf), for the given query rows and all gallery
    items j; ``gallery_by_feature`` row f lists the gallery items with V_jf > 0."""
    out = np.empty((v_rows.shape[0], ng))
    step = 32
    for start in range(0, v_rows.shape[0], step):
        coo = v_rows[start : start + step].tocoo()
        ptr = gallery_by_feature.indptr
        lengths = ptr[coo.col + 1] - ptr[coo.col]
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        pos = np.repeat(ptr[coo.col], lengths) + offsets
        mins = np.minimum(np.repeat(coo.data, lengths), gallery_by_feature.data[pos])
        keys = np.repeat(coo.row, lengths) * ng + gallery_by_feature.indices[pos]
        rows = min(step, v_rows.shape[0] - start)
        m = np.bincount(keys, weights=mins, minlength=rows * ng).reshape(rows, ng)
        out[start : start + rows] = 1.0 - m / (2.0 - m)
    return out
