"""k-nearest neighbours with faiss (GPU index when available), searched in chunks."""

from __future__ import annotations

import numpy as np

from secret_core.device import use_faiss_gpu


def knn(
    features: np.ndarray, k: int, *, device: str = "auto", chunk_size: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, indices) of the ``k`` nearest rows by inner product (cosine for
    L2-normalised features), each row including itself first."""
    import faiss

    feats = np.ascontiguousarray(features, dtype=np.float32)
    n, dim = feats.shape
    k = min(k, n)
    index = faiss.IndexFlatIP(dim)
    if use_faiss_gpu(device):  # pragma: no cover - no GPU on the CI machines
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(feats)
    sims = np.empty((n, k), dtype=np.float32)
    idx = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        sims[start:stop], idx[start:stop] = index.search(feats[start:stop], k)
    _self_first(idx, sims)
    return sims, idx


def _self_first(idx: np.ndarray, sims: np.ndarray) -> None:
    """Ties can put a duplicate before a row itself; move the row to position 0."""
    rows = np.arange(len(idx))
    wrong = idx[:, 0] != rows
    for r in np.flatnonzero(wrong):
        where = np.flatnonzero(idx[r] == r)
        pos = where[0] if len(where) else len(idx[r]) - 1
        idx[r, 1 : pos + 1] = idx[r, :pos].copy()
        sims[r, 1 : pos + 1] = sims[r, :pos].copy()
        idx[r, 0] = r
        sims[r, 0] = 1.0
