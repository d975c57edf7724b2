"""Query-gallery distances: one feature space, or the joint distance of paper Eq. 3."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from secret_core.errors import SecretError

FEATURES = ("global", "top", "bottom", "joint")


def pairwise_distance(qf: np.ndarray, gf: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Distances of L2-normalised features: Euclidean sqrt(2 - 2cos) or cosine 1 - cos.

    Both rank identically; Euclidean is what the authors evaluate with, and it is the
    distance the joint sum of Eq. 3 adds up.
    """
    sims = np.asarray(qf, dtype=np.float32) @ np.asarray(gf, dtype=np.float32).T
    if metric == "cosine":
        return 1.0 - sims
    if metric == "euclidean":
        return np.sqrt(np.maximum(2.0 - 2.0 * sims, 0.0))
    raise SecretError(f"distance metric '{metric}' is not euclidean or cosine")


def joint_distance(
    q: Mapping[str, np.ndarray], g: Mapping[str, np.ndarray], eta: float
) -> np.ndarray:
    """d = d_global + eta * (d_top + d_bottom) (paper Eq. 3)."""
    return pairwise_distance(q["global"], g["global"]) + eta * (
        pairwise_distance(q["top"], g["top"]) + pairwise_distance(q["bottom"], g["bottom"])
    )


def feature_distance(
    q: Mapping[str, np.ndarray],
    g: Mapping[str, np.ndarray],
    feature: str = "global",
    eta: float = 1.0,
) -> np.ndarray:
    """Distance for one inference feature: global, top, bottom or joint."""
    if feature == "joint":
        return joint_distance(q, g, eta)
    if feature not in FEATURES:
        raise SecretError(f"inference feature '{feature}' is not one of {', '.join(FEATURES)}")
    return pairwise_distance(q[feature], g[feature])
