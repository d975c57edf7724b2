"""Re-ID retrieval metrics (mAP, CMC, mINP) under the standard protocol, in bounded memory.

Protocol: for each query, gallery images with the query's id AND camera are ignored, as are
junk images (id -1); queries without any remaining match are skipped and counted.

Instead of arg-sorting every distance row (slow, and O(queries x gallery) memory at once),
each chunk of rows sorts the distances of its valid non-matches (a fast value sort) and
finds each match's rank by binary search. Ties between a match and a non-match are broken
against the match (the pessimistic rule), so the result does not depend on gallery order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from secret_core.errors import SecretError

DistanceRows = np.ndarray | Callable[[int, int], np.ndarray]


def _rows(distmat: DistanceRows, start: int, stop: int) -> np.ndarray:
    block = distmat(start, stop) if callable(distmat) else distmat[start:stop]
    return np.asarray(block, dtype=np.float64)


def evaluate(
    distmat: DistanceRows,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray,
    g_camids: np.ndarray,
    max_rank: int = 50,
    *,
    chunk_size: int = 256,
) -> dict:
    """mAP, CMC curve (``cmc[0]`` is Rank-1) and mINP over the valid queries.

    ``distmat`` is a (num_query, num_gallery) array or a callable ``(start, stop) -> rows``
    so that a distance matrix too large for memory is never materialised.
    """
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    q_camids, g_camids = np.asarray(q_camids), np.asarray(g_camids)
    num_q, num_g = len(q_pids), len(g_pids)
    if not callable(distmat) and np.shape(distmat) != (num_q, num_g):
        raise SecretError(
            f"distance matrix shape {np.shape(distmat)} does not match "
            f"{num_q} queries x {num_g} gallery images"
        )
    cmc_hits = np.zeros(max_rank, dtype=np.int64)
    ap_sum = inp_sum = 0.0
    valid_queries = 0
    junk = g_pids == -1
    for start in range(0, num_q, chunk_size):
        stop = min(start + chunk_size, num_q)
        dist = _rows(distmat, start, stop)
        qp, qc = q_pids[start:stop, None], q_camids[start:stop, None]
        same_id = g_pids[None, :] == qp
        valid = ~(same_id & (g_camids[None, :] == qc)) & ~junk[None, :]
        positive = same_id & valid
        counts = positive.sum(axis=1)
        keep = counts > 0
        if not keep.any():
            continue
        dist, positive, valid, counts = dist[keep], positive[keep], valid[keep], counts[keep]
        ranks = _positive_ranks(dist, positive, valid, counts)
        order = np.arange(ranks.shape[1])[None, :]
        has = order < counts[:, None]
        precision = np.where(has, (order + 1) / (ranks + 1.0), 0.0)
        ap_sum += float((precision.sum(axis=1) / counts).sum())
        last = ranks[np.arange(len(counts)), counts - 1]
        inp_sum += float((counts / (last + 1.0)).sum())
        first = ranks[:, 0]
        cmc_hits += (first[:, None] <= np.arange(max_rank)[None, :]).sum(axis=0)
        valid_queries += len(counts)
    if valid_queries == 0:
        raise SecretError(
            "no query has a valid gallery match (same id, other camera); check "
            "the query and gallery folders"
        )
    return {
        "mAP": ap_sum / valid_queries,
        "cmc": cmc_hits / valid_queries,
        "mINP": inp_sum / valid_queries,
        "num_valid_queries": valid_queries,
        "num_skipped_queries": num_q - valid_queries,
    }


def _positive_ranks(
    dist: np.ndarray, positive: np.ndarray, valid: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """0-based rank among valid gallery items of each query's matches, in increasing order
    (padded with a large value beyond each query's match count)."""
    rows = len(dist)
    finite_max = float(np.max(dist[valid])) if valid.any() else 0.0
    span = finite_max - float(np.min(dist)) + 2.0
    neg = np.where(valid & ~positive, dist, finite_max + 1.0)
    neg.sort(axis=1)  # in place: a fast value sort, no argsort
    pos = np.where(positive, dist, np.inf)
    pos.sort(axis=1)
    width = int(counts.max())
    pos = pos[:, :width]
    offsets = np.arange(rows, dtype=np.float64)[:, None] * span - float(np.min(dist))
    flat_neg = (neg + offsets).ravel()
    targets = np.where(np.isfinite(pos), pos, finite_max) + offsets
    n_neg_before = np.searchsorted(flat_neg, targets.ravel(), side="right").reshape(rows, width)
    n_neg_before -= np.arange(rows)[:, None] * neg.shape[1]
    return n_neg_before + np.arange(width)[None, :]
