"""Query-gallery distances: one feature space, or the joint distance of paper Eq. 3.

Features are expected L2-normalised (the pipeline normalises the BN-neck features). Distances
are NOT squared: Euclidean is sqrt(2 - 2 cos), the distance the authors evaluate with and
the one whose sum Eq. 3 forms (squaring would change the joint ranking, not the single-space
ones). Cosine is 1 - cos; it ranks like Euclidean within one space.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from secret_core.errors import SecretError

FEATURES = ("global", "top", "bottom", "joint")
BRANCHES = ("global", "top", "bottom")


def _matrix(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise SecretError(f"{name} features must be a 2-D (images, dims) array, got {x.shape}")
    return x


def pairwise_distance(qf: np.ndarray, gf: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """(num_query, num_gallery) float32 distances of L2-normalised features.

    ``euclidean``: sqrt(max(2 - 2 q.g, 0)) (not squared); ``cosine``: 1 - q.g.
    """
    q, g = _matrix(qf, "query"), _matrix(gf, "gallery")
    if q.shape[1] != g.shape[1]:
        raise SecretError(f"query features have {q.shape[1]} dims, gallery {g.shape[1]}")
    sims = q @ g.T
    if metric == "cosine":
        return np.subtract(1.0, sims, out=sims)
    if metric == "euclidean":
        np.multiply(sims, -2.0, out=sims)
        sims += 2.0
        np.maximum(sims, 0.0, out=sims)
        return np.sqrt(sims, out=sims)
    raise SecretError(f"distance metric '{metric}' is not 'euclidean' or 'cosine'")


def _branch(feats: Mapping[str, np.ndarray], key: str, side: str) -> np.ndarray:
    if key not in feats:
        raise SecretError(f"{side} features have no '{key}' entry (have: {', '.join(feats)})")
    return feats[key]


def joint_distance(
    q: Mapping[str, np.ndarray], g: Mapping[str, np.ndarray], eta: float
) -> np.ndarray:
    """d = d_global + eta * (d_top + d_bottom) (paper Eq. 3), Euclidean in each space."""
    parts = {
        key: pairwise_distance(_branch(q, key, "query"), _branch(g, key, "gallery"))
        for key in BRANCHES
    }
    return parts["global"] + np.float32(eta) * (parts["top"] + parts["bottom"])


def feature_distance(
    q: Mapping[str, np.ndarray],
    g: Mapping[str, np.ndarray],
    feature: str = "global",
    eta: float = 1.0,
) -> np.ndarray:
    """Distance for one inference feature: global, top, bottom or joint (Eq. 3 with eta)."""
    if feature == "joint":
        return joint_distance(q, g, eta)
    if feature not in FEATURES:
        raise SecretError(f"inference feature '{feature}' is not one of {', '.join(FEATURES)}")
    return pairwise_distance(_branch(q, feature, "query"), _branch(g, feature, "gallery"))
