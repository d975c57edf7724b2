"""Exact k-nearest neighbours of every feature among all features, with faiss.

The k-reciprocal encoding only ever looks at each sample's top-k list, so this is the one
place that touches all N x N similarities, and it does so without storing them: faiss scans
the database for a chunk of queries at a time and keeps only the top k of each.
"""

from __future__ import annotations

import numpy as np

from secret_core.device import use_faiss_gpu
from secret_core.errors import SecretError


def knn(
    features: np.ndarray, k: int, *, device: str = "auto", chunk_size: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities float32, indices int64), both N x min(k, N), best first.

    Inner product on L2-normalised features ranks exactly like Euclidean distance (the
    literature's IndexFlatL2) but returns the cosine, which the encoding reuses. Each row
    starts with the sample itself, which the k-reciprocal definitions assume; faiss may put
    an exact duplicate first, so that is repaired here.
    """
    import faiss

    feats = np.ascontiguousarray(features, dtype=np.float32)
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise SecretError(f"kNN needs a non-empty N x d feature array, got shape {feats.shape}")
    if k < 1 or chunk_size < 1:
        raise SecretError(f"kNN needs k >= 1 and chunk_size >= 1, got k={k}, {chunk_size=}")
    n, dim = feats.shape
    k = min(int(k), n)
    index = faiss.IndexFlatIP(dim)
    if use_faiss_gpu(device):  # pragma: no cover - the CI machines have no GPU
        # One upload of the database and one search call: faiss tiles the queries on the
        # device itself (bounded temporary memory), so no per-chunk host <-> device round
        # trips and synchronisations; only the N x k results come back, once.
        index = faiss.index_cpu_to_all_gpus(index)
        index.add(feats)
        sims, idx = index.search(feats, k)
        sims = np.ascontiguousarray(sims, dtype=np.float32)
        idx = np.ascontiguousarray(idx, dtype=np.int64)
    else:
        # On the CPU the chunks bound the scratch memory of the scan (chunk x N scores).
        index.add(feats)
        sims = np.empty((n, k), dtype=np.float32)
        idx = np.empty((n, k), dtype=np.int64)
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            sims[start:stop], idx[start:stop] = index.search(feats[start:stop], k)
    _put_self_first(feats, sims, idx)
    return sims, idx


def _put_self_first(feats: np.ndarray, sims: np.ndarray, idx: np.ndarray) -> None:
    """Move each row's own index to column 0, shifting the entries before it right by one.

    Only rows with exact ties are affected (rare), so a loop over them is cheap. If the row
    itself fell out of its own top k (more than k exact duplicates), the last entry makes room.
    """
    rows = np.flatnonzero(idx[:, 0] != np.arange(len(idx)))
    for r in rows:
        where = np.flatnonzero(idx[r] == r)
        if where.size:
            pos, own = int(where[0]), sims[r, where[0]]
        else:
            pos, own = idx.shape[1] - 1, np.dot(feats[r], feats[r])
        idx[r, 1 : pos + 1] = idx[r, :pos].copy()
        sims[r, 1 : pos + 1] = sims[r, :pos].copy()
        idx[r, 0] = r
        sims[r, 0] = own
