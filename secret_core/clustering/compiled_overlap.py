"""The exact-sum overlap block of :mod:`secret_core.clustering.overlap`, compiled with numba.

The numpy scatter path materialises every (i, l, j) triple of a block (indices, values,
minima, keys), eight passes over arrays of tens of millions of entries, on one core. Here a
row's minima are added straight into a dense accumulator as its columns are walked, and the
block's rows are split across the job's threads (``numba.prange``), so a triple costs a
load, a ``min`` and an add.

It is used only where :func:`~secret_core.clustering.overlap._sums_are_exact` holds. There
every float64 sum of the values is exact in any order, so the per-pair sums are bitwise those
of the numpy paths; the distance is then computed with the same float64 operations in the
same order as ``overlap._distances``, and the stored float32 values and partners are bitwise
equal (``tests/test_clustering_jaccard.py`` checks it). Imported only by the clustering
step, and only above ``overlap.COMPILED_FROM_TRIPLES``, so that small jobs do not pay
numba's import; the compiled code is cached beside this file after the first call.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

Arrays = tuple[np.ndarray, ...]
"""Sparse matrices and outputs go to the kernels as tuples of arrays (numba takes tuples)."""


@numba.njit(cache=True, nogil=True)
def _rows(
    rows_of: Arrays,
    columns_of: Arrays,
    row_sums: np.ndarray,
    max_distance: float,
    first: int,
    last: int,
    sums: np.ndarray,
    out: Arrays,
) -> None:
    """Rows [first, last) of V: each row's kept partners (ascending) and float32 distances.

    ``rows_of`` is V as CSR (indptr, indices, data), ``columns_of`` as CSC (indptr, row
    indices, data); ``sums`` is this run's accumulator (N zeros, left zero after each row);
    ``out`` = (offsets, counts, partners, distances): a row writes from ``offsets[row]`` on
    and puts its number of pairs into ``counts[row]``.
    """
    indptr, indices, data = rows_of
    col_indptr, col_rows, col_data = columns_of
    offsets, counts, partners, distances = out
    n = row_sums.shape[0]
    for row in range(first, last):
        for entry in range(indptr[row], indptr[row + 1]):
            column = indices[entry]
            value = data[entry]
            for member in range(col_indptr[column], col_indptr[column + 1]):
                other = col_data[member]
                sums[col_rows[member]] += value if value < other else other
        at = offsets[row]
        kept = 0
        own = row_sums[row]
        # partners in ascending order, as the numpy path's non-zero sums: a sequential scan
        # of N sums costs less than sorting the row's ~N/5 partners
        for partner in range(n):
            overlap = sums[partner]
            if overlap == 0.0:
                continue
            sums[partner] = 0.0
            # as overlap._distances: (s_i + s_j) - m, m / that, 1 - it, clipped to [0, 1]
            union = own + row_sums[partner]
            union -= overlap
            distance = min(max(1.0 - overlap / union, 0.0), 1.0)
            single = np.float32(distance)
            if single < np.float32(1.0) and (max_distance >= 1.0 or distance < max_distance):
                partners[at + kept] = partner
                distances[at + kept] = single
                kept += 1
        counts[row] = kept


@numba.njit(parallel=True, cache=True, nogil=True)
def _all_rows(
    rows_of: Arrays,
    columns_of: Arrays,
    row_sums: np.ndarray,
    max_distance: float,
    blocks: np.ndarray,
    capacity: np.ndarray,
    chunks: int,
    result: Arrays,
) -> int:
    """Blocks of rows [blocks[b], blocks[b + 1]) one after another; returns the pair count.

    A block's rows are split into ``chunks`` runs that go in parallel, each row writing
    into a scratch buffer at its upper bound ``capacity[row]``; the block's pairs are then
    appended to ``result`` = (counts, partners, distances) in CSR order. The scratch is
    reused by every block and the output is written only where pairs land, so the pages
    touched are the result's plus one block's.
    """
    counts, partners, distances = result
    n = row_sums.shape[0]
    sums = np.zeros((chunks, n), dtype=np.float64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    most = 0
    for b in range(blocks.shape[0] - 1):
        most = max(most, capacity[blocks[b] : blocks[b + 1]].sum())
    scratch = (
        offsets,
        counts,
        np.empty(most, dtype=partners.dtype),
        np.empty(most, dtype=np.float32),
    )
    at = 0
    for b in range(blocks.shape[0] - 1):
        start, stop = blocks[b], blocks[b + 1]
        offsets[start] = 0
        for row in range(start, stop):
            offsets[row + 1] = offsets[row] + capacity[row]
        rows = stop - start
        for chunk in numba.prange(chunks):
            first = start + rows * chunk // chunks
            last = start + rows * (chunk + 1) // chunks
            _rows(rows_of, columns_of, row_sums, max_distance, first, last, sums[chunk], scratch)
        for row in range(start, stop):
            source = offsets[row]
            for k in range(counts[row]):
                partners[at] = scratch[2][source + k]
                distances[at] = scratch[3][source + k]
                at += 1
    return at


def compiled_jaccard(
    v: sp.csr_matrix,
    columns: Arrays,
    row_sums: np.ndarray,
    row_capacity: np.ndarray,
    blocks: list[int],
    max_distance: float,
) -> sp.csr_matrix:
    """The sparse Jaccard distance of ``overlap.jaccard_from_encoding``, bitwise, when every
    sum is exact.

    ``columns``: V column-major as (indptr, row indices, float32 values). ``row_capacity``:
    an upper bound of each row's pairs (its triples, at most N); ``blocks``: row boundaries
    of the blocks handled one after another (their capacity bounds the scratch). The output
    is allocated at the bound but only the pages written are backed by memory, and the
    final shrink gives the tail back, as in the numpy path.
    """
    n = v.shape[0]
    capacity = row_capacity.astype(np.int64)
    total_capacity = int(capacity.sum())
    index_dtype = np.int32 if total_capacity < np.iinfo(np.int32).max else np.int64
    counts = np.zeros(n, dtype=np.int64)
    partners = np.empty(total_capacity, dtype=index_dtype)
    distances = np.empty(total_capacity, dtype=np.float32)
    total = _all_rows(
        (v.indptr.astype(np.int64, copy=False), v.indices, v.data),
        columns,
        row_sums,
        float(max_distance),
        np.asarray(blocks, dtype=np.int64),
        capacity,
        max(1, min(n, 4 * numba.get_num_threads())),
        (counts, partners, distances),
    )
    partners.resize(total, refcheck=False)
    distances.resize(total, refcheck=False)
    indptr = np.zeros(n + 1, dtype=index_dtype)
    np.cumsum(counts, out=indptr[1:])
    out = sp.csr_matrix((distances, partners, indptr), shape=(n, n))
    out.has_sorted_indices = True
    return out
