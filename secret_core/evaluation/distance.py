"""Query-gallery distances: one feature space, or the joint distance of paper Eq. 3.

Features are expected L2-normalised (the pipeline normalises the BN-neck features).
``euclidean`` is sqrt(2 - 2 cos); ``squared_euclidean`` is 2 - 2 cos, what the authors'
evaluation code computes (their pairwise distance has no square root); ``cosine`` is 1 - cos.
All three rank a single feature space identically, but the joint distance of Eq. 3 sums
three spaces, and that sum ranks differently under euclidean and squared_euclidean; the
paper does not say which it sums (the authors' code has no joint distance), so
``evaluation.distance`` chooses, default euclidean.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from secret_core import BRANCHES
from secret_core.errors import SecretError

# What evaluation can rank with: each branch, Eq. 3, or the three L2-normalised features
# side by side (renormalised), the one representation naive SECRET trains and clusters.
FEATURES = (*BRANCHES, "joint", "concat")
METRICS = ("euclidean", "squared_euclidean", "cosine")


def _matrix(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise SecretError(f"{name} features must be a 2-D (images, dims) array, got {x.shape}")
    return x


def pairwise_distance(qf: np.ndarray, gf: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """(num_query, num_gallery) float32 distances of L2-normalised features.

    ``euclidean``: sqrt(max(2 - 2 q.g, 0)); ``squared_euclidean``: max(2 - 2 q.g, 0);
    ``cosine``: 1 - q.g.
    """
    q, g = _matrix(qf, "query"), _matrix(gf, "gallery")
    if q.shape[1] != g.shape[1]:
        raise SecretError(f"query features have {q.shape[1]} dims, gallery {g.shape[1]}")
    sims = q @ g.T
    if metric == "cosine":
        return np.subtract(1.0, sims, out=sims)
    if metric in ("euclidean", "squared_euclidean"):
        np.multiply(sims, -2.0, out=sims)
        sims += 2.0
        np.maximum(sims, 0.0, out=sims)
        return np.sqrt(sims, out=sims) if metric == "euclidean" else sims
    raise SecretError(
        f"distance metric '{metric}' is not one of {', '.join(METRICS)} "
        "(config key evaluation.distance)"
    )


def _branch(feats: Mapping[str, np.ndarray], key: str, side: str) -> np.ndarray:
    if key not in feats:
        raise SecretError(f"{side} features have no '{key}' entry (have: {', '.join(feats)})")
    return feats[key]


def concatenated(feats: Mapping[str, np.ndarray], side: str = "features") -> np.ndarray:
    """The three branch features side by side, L2-normalised again (naive SECRET's space).

    Of unit-length parts, its squared Euclidean distance is (d_g^2 + d_t^2 + d_b^2) / 3, so
    it ranks as Eq. 3 with eta = 1 under ``squared_euclidean`` (not under ``euclidean``).
    Clustering (``pipeline.pseudo_labels``) and evaluation use this one definition.
    """
    parts = [np.asarray(_branch(feats, key, side), dtype=np.float32) for key in BRANCHES]
    joined = np.concatenate(parts, axis=1)
    joined /= np.maximum(np.linalg.norm(joined, axis=1, keepdims=True), 1e-12)
    return joined


def joint_distance(
    q: Mapping[str, np.ndarray],
    g: Mapping[str, np.ndarray],
    eta: float,
    metric: str = "euclidean",
) -> np.ndarray:
    """d = d_global + eta * (d_top + d_bottom) (paper Eq. 3), ``metric`` in each space."""
    parts = {
        key: pairwise_distance(_branch(q, key, "query"), _branch(g, key, "gallery"), metric)
        for key in BRANCHES
    }
    return parts["global"] + np.float32(eta) * (parts["top"] + parts["bottom"])


def feature_distance(
    q: Mapping[str, np.ndarray],
    g: Mapping[str, np.ndarray],
    feature: str = "global",
    eta: float = 1.0,
    metric: str = "euclidean",
) -> np.ndarray:
    """Distance for one inference feature: global, top, bottom, joint (Eq. 3 with eta) or
    concat (:func:`concatenated`), ``metric`` in each space (``evaluation.distance``)."""
    if feature == "joint":
        return joint_distance(q, g, eta, metric)
    if feature == "concat":
        return pairwise_distance(concatenated(q, "query"), concatenated(g, "gallery"), metric)
    if feature not in FEATURES:
        raise SecretError(f"inference feature '{feature}' is not one of {', '.join(FEATURES)}")
    return pairwise_distance(_branch(q, feature, "query"), _branch(g, feature, "gallery"), metric)
