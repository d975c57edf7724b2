"""Input checks shared by the clustering steps: bad input fails with a one-line SecretError."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from secret_core import MAX_DISTANCE
from secret_core.errors import SecretError

NORM_TOLERANCE = 1e-3
"""How far a row norm may be from 1: the encoding's d = 2 - 2 cos needs unit-norm features."""


def check_features(features: np.ndarray) -> np.ndarray:
    """Finite, non-empty, L2-normalised N x d features as C-contiguous float32."""
    feats = np.ascontiguousarray(features, dtype=np.float32)
    if feats.ndim != 2 or feats.shape[0] == 0 or feats.shape[1] == 0:
        raise SecretError(f"features must be a non-empty N x d array, got shape {feats.shape}")
    if not np.isfinite(feats).all():
        raise SecretError("features contain NaN or infinity; check the extraction step")
    norms = np.linalg.norm(feats, axis=1)
    worst = float(np.abs(norms - 1.0).max())
    if worst > NORM_TOLERANCE:
        raise SecretError(
            f"features must be L2-normalised (a row norm is off by {worst:.3g}); "
            "divide each row by its norm first"
        )
    return feats


def check_distance(distance: sp.spmatrix, n: int | None = None) -> sp.csr_matrix:
    """A square sparse distance matrix (of size ``n`` when given) in CSR form."""
    if not sp.issparse(distance):
        raise SecretError("distance must be a scipy sparse matrix (from jaccard_distance)")
    rows, cols = distance.shape
    if rows != cols or (n is not None and rows != n):
        raise SecretError(
            f"distance must be N x N for the {n} features, got {rows} x {cols}"
            if n is not None
            else f"distance must be square, got {rows} x {cols}"
        )
    return distance.tocsr()


def check_max_distance(max_distance: float) -> float:
    """``max_distance`` as a float in (0, 1]: pairs at or above it are not stored."""
    value = float(max_distance)
    if not 0.0 < value <= 1.0:
        raise SecretError(
            f"max_distance (adapt.max_distance) must be in (0, 1], got {max_distance}; "
            f"use {MAX_DISTANCE} to store every pair"
        )
    return value
