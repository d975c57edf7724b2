"""Re-ID retrieval metrics (mAP, CMC, mINP) under the standard protocol, in bounded memory.

Protocol (Market-1501 / DukeMTMC / MSMT17, as in the authors' code and fast-reid): for each
query, gallery images with the query's id AND the query's camera are ignored, and so is every
gallery image with id -1 (Market's "junk"; distractors with id 0 stay). A query left without
any match is skipped: it counts in ``num_skipped_queries`` and in no average.

Ties: the ranking of a query is the one ``np.argsort(row, kind="stable")`` gives, so equal
distances keep gallery order (lower gallery index first). This makes results reproducible and
identical to the usual argsort loop whenever there are no ties.

Why not argsort: sorting 11,659 rows of 82,161 distances costs minutes and, done at once,
gigabytes. Only each match's rank is needed, so rows are processed in blocks of 32: every
distance gets a histogram bin from a monotone map (about 20 distances per bin), a cumulative
histogram gives the number of valid gallery items in lower bins, and only the few items that
share a bin with a match are compared exactly. Cost is linear in the gallery size, memory is
a few blocks of rows, and the answer is exact (no quantisation error), ties included.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from secret_core.errors import SecretError

DistanceRows = np.ndarray | Callable[[int, int], np.ndarray]

_BINS = 4096  # histogram bins per query row
_BLOCK = 32  # rows binned at once: 32 x 82k distances stay cache-friendly


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
    """mAP, CMC curve (``cmc[0]`` is Rank-1, length ``max_rank``) and mINP over valid queries.

    ``ap`` holds each valid query's AP in query order. Which queries are valid depends only
    on the ids and cameras, so two models evaluated on one test set give aligned ``ap``
    arrays, and the paired difference of their mAP has a standard error over queries
    (``reporting.resolution``).

    ``distmat`` is a (num_query, num_gallery) array or a callable ``(start, stop) -> rows``
    returning the distances of queries ``start:stop``, so that a matrix too large for memory
    is never materialised; it is asked for ``chunk_size`` queries at a time.
    """
    q_pids, q_camids = _labels(q_pids, q_camids, "query")
    g_pids, g_camids = _labels(g_pids, g_camids, "gallery")
    if int(max_rank) < 1 or int(chunk_size) < 1:
        raise SecretError(f"max_rank ({max_rank}) and chunk_size ({chunk_size}) must be >= 1")
    num_q, num_g = len(q_pids), len(g_pids)
    if not callable(distmat):
        distmat = np.asarray(distmat)
        if distmat.shape != (num_q, num_g):
            raise SecretError(
                f"distance matrix shape {distmat.shape} does not match "
                f"{num_q} queries x {num_g} gallery images"
            )
    kept = np.flatnonzero(g_pids != -1)
    drop_junk = len(kept) < num_g
    index = _GalleryIndex(g_pids[kept], g_camids[kept])
    aps, inps, firsts = [], [], []
    for start in range(0, num_q, int(chunk_size)):
        stop = min(start + int(chunk_size), num_q)
        block = _rows(distmat, start, stop, num_g)
        if drop_junk:
            block = block[:, kept]
        for sub in range(0, stop - start, _BLOCK):
            lo, hi = start + sub, min(start + sub + _BLOCK, stop)
            rows, ranks = positive_ranks(
                block[sub : sub + _BLOCK], q_pids[lo:hi], q_camids[lo:hi], index
            )
            ap, inp, first = _per_query(rows, ranks)
            aps.append(ap)
            inps.append(inp)
            firsts.append(first)
    ap_all, first_all = np.concatenate(aps), np.concatenate(firsts)
    valid = len(ap_all)
    if valid == 0:
        raise SecretError(
            "no query has a valid gallery match (same id, other camera); check that the "
            "query and gallery lists belong to the same dataset"
        )
    hits = np.bincount(np.minimum(first_all, max_rank), minlength=max_rank + 1)[:max_rank]
    return {
        "mAP": float(ap_all.sum() / valid),
        "ap": ap_all,
        "cmc": np.cumsum(hits) / valid,
        "mINP": float(np.concatenate(inps).sum() / valid),
        "num_valid_queries": int(valid),
        "num_skipped_queries": int(num_q - valid),
    }


def _labels(pids: np.ndarray, camids: np.ndarray, split: str) -> tuple[np.ndarray, np.ndarray]:
    pids, camids = np.asarray(pids), np.asarray(camids)
    if pids.ndim != 1 or camids.shape != pids.shape:
        raise SecretError(
            f"{split} ids {pids.shape} and camera ids {camids.shape} must be 1-D and equal length"
        )
    integral = np.issubdtype(pids.dtype, np.integer) and np.issubdtype(camids.dtype, np.integer)
    if pids.size and not integral:
        raise SecretError(f"{split} ids and camera ids must be integers")
    return pids.astype(np.int64), camids.astype(np.int64)


def _rows(distmat: DistanceRows, start: int, stop: int, num_g: int) -> np.ndarray:
    block = np.asarray(distmat(start, stop) if callable(distmat) else distmat[start:stop])
    if block.shape != (stop - start, num_g):
        raise SecretError(
            f"distance rows {start}:{stop} have shape {block.shape}, expected "
            f"({stop - start}, {num_g})"
        )
    if not np.issubdtype(block.dtype, np.floating):
        block = block.astype(np.float64)
    return block


class _GalleryIndex:
    """Gallery positions grouped by id, so each query's same-id items are found without a
    dense comparison against the whole gallery (ids are sparse: ~27 images per id)."""

    def __init__(self, pids: np.ndarray, camids: np.ndarray) -> None:
        self.order = np.argsort(pids, kind="stable")  # keeps gallery order within an id
        self.camids = camids
        self.uniq, self.starts, self.counts = np.unique(
            pids[self.order], return_index=True, return_counts=True
        )

    def pairs(self, q_pids: np.ndarray, q_cams: np.ndarray) -> tuple[np.ndarray, ...]:
        """(row, gallery column, same camera) of every same-id pair, row-major, columns
        ascending within a row."""
        if len(self.uniq) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0, dtype=bool)
        loc = np.minimum(np.searchsorted(self.uniq, q_pids), len(self.uniq) - 1)
        lengths = np.where(self.uniq[loc] == q_pids, self.counts[loc], 0)
        rows = np.repeat(np.arange(len(q_pids)), lengths)
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        cols = self.order[np.repeat(self.starts[loc], lengths) + offsets]
        return rows, cols, self.camids[cols] == q_cams[rows]


def _bin_keys(block: np.ndarray) -> np.ndarray:
    """Flat histogram key row * _BINS + bin of every distance, from a map that never
    decreases with the distance (so a lower bin always means a smaller distance)."""
    x = block if block.dtype == np.float32 else block.astype(np.float32)
    lo, hi = x.min(axis=1), x.max(axis=1)
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise SecretError("distance matrix contains NaN; check the features for NaN values")
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        finite = np.isfinite(x)
        lo = np.where(finite, x, np.inf).min(axis=1)
        hi = np.where(finite, x, -np.inf).max(axis=1)
        lo, hi = np.where(np.isfinite(lo), lo, 0), np.where(np.isfinite(hi), hi, 0)
        x = np.clip(x, lo[:, None], hi[:, None])  # infinities share the end bins: still monotone
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        span = (hi - lo).astype(np.float64)
        scale = np.where(span > 0, (_BINS - 1) * (1 - 1e-5) / span, 0.0)
        scale = np.where(np.isfinite(scale), scale, 0.0).astype(np.float32)
    t = x - lo[:, None]
    t *= scale[:, None]
    t += (np.arange(len(x), dtype=np.float32) * _BINS)[:, None]
    return t.astype(np.intp)


def positive_ranks(
    block: np.ndarray, q_pids: np.ndarray, q_cams: np.ndarray, index: _GalleryIndex
) -> tuple[np.ndarray, np.ndarray]:
    """0-based rank, among the valid gallery items, of every match of every query row.

    Returns (row, rank) sorted by row, then rank. Rows without a match do not appear.
    """
    num_rows, num_g = block.shape
    if num_rows * _BINS >= 2**24:
        raise SecretError(f"internal block of {num_rows} rows too large for float32 bin keys")
    rows, cols, same_cam = index.pairs(q_pids, q_cams)
    pos_flat = rows[~same_cam] * num_g + cols[~same_cam]
    if pos_flat.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        if block.size:
            _bin_keys(block)  # still reject NaN rows
        return empty, empty
    ex_flat = rows[same_cam] * num_g + cols[same_cam]
    keys = _bin_keys(block).ravel()
    hist = np.bincount(keys, minlength=num_rows * _BINS)
    if ex_flat.size:
        hist -= np.bincount(keys[ex_flat], minlength=num_rows * _BINS)
    # only items sharing a bin with a match need an exact comparison
    hot = np.zeros(num_rows * _BINS, dtype=bool)
    hot[keys[pos_flat]] = True
    hot_keys = np.flatnonzero(hot)
    below = _items_below(hist, hot_keys)
    cand = np.flatnonzero(hot[keys])
    if ex_flat.size:
        excluded = np.zeros(block.size, dtype=bool)
        excluded[ex_flat] = True
        cand = cand[~excluded[cand]]
    ckey, cval, ccol = keys[cand], block.ravel()[cand], cand % num_g
    order = np.lexsort((ccol, cval, ckey))  # key, then distance, then gallery index
    cand, ckey = cand[order], ckey[order]
    within = np.arange(len(cand)) - np.searchsorted(ckey, ckey, side="left")
    is_pos = np.zeros(block.size, dtype=bool)
    is_pos[pos_flat] = True
    take = is_pos[cand]
    crow = cand[take] // num_g
    ranks = below[np.searchsorted(hot_keys, ckey[take])] + within[take]
    return crow.astype(np.int64), ranks.astype(np.int64)


def _items_below(hist: np.ndarray, hot_keys: np.ndarray) -> np.ndarray:
    """Valid items in lower bins of the same row, for each hot key (sorted, unique).

    A cumulative sum of the whole histogram is sequential and was the slowest step; summing
    only the segments between consecutive hot keys (``np.add.reduceat``) is vectorised.
    """
    row_starts = np.unique(hot_keys // _BINS) * _BINS
    bounds = np.union1d(row_starts, hot_keys)
    seg = np.add.reduceat(hist, bounds)
    seg_row = bounds // _BINS
    first_of_row = np.r_[True, seg_row[1:] != seg_row[:-1]]
    cum = np.cumsum(seg) - seg  # exclusive prefix over segments, then restart per row
    row_base = cum[np.flatnonzero(first_of_row)][np.cumsum(first_of_row) - 1]
    below = cum - row_base
    at_hot = np.searchsorted(bounds, hot_keys)
    return below[at_hot]


def _per_query(rows: np.ndarray, ranks: np.ndarray) -> tuple[np.ndarray, ...]:
    """AP, INP and first-match rank of each query with matches, from sorted (row, rank)."""
    if rows.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    counts = np.diff(np.r_[starts, len(rows)])
    kth = np.arange(len(rows)) - np.repeat(starts, counts)  # 0-based order among matches
    group = np.repeat(np.arange(len(starts)), counts)
    ap = np.bincount(group, weights=(kth + 1) / (ranks + 1.0)) / counts
    last = ranks[starts + counts - 1]
    return ap, counts / (last + 1.0), ranks[starts]
