"""Pseudo-label arrays: validation and re-indexing, shared by refinement and quality metrics.

A label array is 1-D, integer, with -1 for "no label" (DBSCAN outlier or refined away) and
any non-negative id otherwise. Other negative values are rejected rather than silently
treated as outliers, because they usually mean the wrong array was passed.
"""

from __future__ import annotations

import numpy as np

from secret_core.errors import SecretError

_DENSE = 1 << 22  # id and pair-code ranges up to this use bincount tables instead of sorting


def as_labels(labels: np.ndarray, name: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D int64 array, or a SecretError naming ``name``."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise SecretError(f"{name} must be a 1-D label array, got shape {arr.shape}")
    integral = np.issubdtype(arr.dtype, np.integer) or (
        np.issubdtype(arr.dtype, np.floating)
        and bool(np.isfinite(arr).all() and (arr == np.round(arr)).all())
    )  # whole-number floats (e.g. labels read back from JSON) are accepted
    if arr.size and not integral:
        raise SecretError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and arr.min() < -1:
        raise SecretError(f"{name} holds {int(arr.min())}; labels are ids >= 0 or -1 (none)")
    return arr


def same_length(*arrays: tuple[np.ndarray, str]) -> list[np.ndarray]:
    """Validate several named label arrays that must describe the same samples."""
    out = [as_labels(a, name) for a, name in arrays]
    sizes = {a.size for a in out}
    if len(sizes) > 1:
        described = ", ".join(f"{name} {a.size}" for a, (_, name) in zip(out, arrays, strict=True))
        raise SecretError(f"label arrays must have equal length, got {described}")
    return out


def compact(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """(ids 0..C-1 in increasing order of the original ids, C) for labels that are all >= 0.

    DBSCAN ids are already small, so a presence table does it in O(N); arbitrary large ids
    fall back to sorting.
    """
    if labels.size == 0:
        return labels.copy(), 0
    top = int(labels.max())
    if top < max(_DENSE, 4 * labels.size):
        present = np.zeros(top + 1, dtype=bool)
        present[labels] = True
        new_id = np.cumsum(present) - 1
        return new_id[labels], int(new_id[-1]) + 1
    uniq, inverse = np.unique(labels, return_inverse=True)
    return inverse.astype(np.int64, copy=False), int(uniq.size)


def reindex(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..C-1 in increasing order of the old ids; -1 stays -1.

    Increasing old id (rather than first appearance) keeps DBSCAN's numbering when nothing
    was removed, so an unrefined label set comes back unchanged.
    """
    labels = as_labels(labels)
    out = np.full_like(labels, -1)
    kept = labels >= 0
    out[kept], _ = compact(labels[kept])
    return out


def pair_counts(a: np.ndarray, b: np.ndarray, size_a: int, size_b: int) -> np.ndarray:
    """For every sample, how many samples share both its ``a`` id and its ``b`` id.

    ``a`` and ``b`` are compact ids (0..size-1). One bincount over the pair codes replaces a
    loop over clusters; huge code ranges (many tiny clusters on both sides) sort instead.
    """
    codes = a * size_b + b
    if size_a * size_b <= max(_DENSE, 4 * a.size):
        return np.bincount(codes, minlength=size_a * size_b)[codes]
    _, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    return counts[inverse]
