"""Mutual refinement of pseudo labels (paper Algorithms 1 and 2), vectorised.

Each feature space keeps only the pseudo labels that agree with the other space(s): the
global space is filtered by both local spaces, each local space by the global one. Counting
members per (target label, reference label) pair with one ``np.unique`` over pair codes
makes an epoch's refinement take milliseconds at MSMT17 size.
"""

from __future__ import annotations

import numpy as np

from secret_core.errors import SecretError

DENOMINATORS = ("clustered", "all")


def _check(target: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    target = np.asarray(target, dtype=np.int64)
    reference = np.asarray(reference, dtype=np.int64)
    if target.shape != reference.shape or target.ndim != 1:
        raise SecretError(
            f"label arrays must be 1-D and of equal length, got {target.shape} "
            f"and {reference.shape}"
        )
    return target, reference


def eliminate_noisy(
    target: np.ndarray, reference: np.ndarray, k: float, *, denominator: str = "clustered"
) -> np.ndarray:
    """Algorithm 2: keep a member of target cluster l only if its reference label holds a
    share of the cluster strictly greater than ``k``; everything else becomes -1.

    ``denominator="clustered"`` (the authors' code): members that are outliers in the
    reference are dropped first and shares count over the remaining members.
    ``"all"`` (the paper's text): shares count over the whole target cluster. Target label
    ids are kept as they are.
    """
    if denominator not in DENOMINATORS:
        raise SecretError(f"refinement denominator '{denominator}' is not one of {DENOMINATORS}")
    target, reference = _check(target, reference)
    out = np.full_like(target, -1)
    both = (target >= 0) & (reference >= 0)
    if not both.any():
        return out
    width = int(reference.max()) + 1
    codes = target[both] * width + reference[both]
    _, inverse, pair_counts = np.unique(codes, return_inverse=True, return_counts=True)
    member_counts = pair_counts[inverse]
    base = target[both] if denominator == "clustered" else target[target >= 0]
    sizes = np.bincount(base, minlength=int(target.max()) + 1)
    keep = member_counts > k * sizes[target[both]]
    idx = np.flatnonzero(both)[keep]
    out[idx] = target[idx]
    return out


def reindex(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..C-1 in increasing order of the old ids; -1 stays -1."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full_like(labels, -1)
    kept = labels >= 0
    if kept.any():
        _, out[kept] = np.unique(labels[kept], return_inverse=True)
    return out


def mutual_refine(
    global_labels: np.ndarray,
    top_labels: np.ndarray,
    bottom_labels: np.ndarray,
    k: float = 0.4,
    use_top: bool = True,
    use_bottom: bool = True,
    *,
    denominator: str = "clustered",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Algorithm 1. G' = elim(G, top) ∩ elim(G, bottom); top' = elim(top, G);
    bottom' = elim(bottom, G). A local space left out (``use_top=False`` is SECRET-T,
    "without top"; ``use_bottom=False`` is SECRET-B) neither refines G nor is refined.
    Returns the three label arrays re-indexed per branch, -1 for discarded samples."""
    g, t = _check(global_labels, top_labels)
    _, b = _check(global_labels, bottom_labels)
    if not (use_top or use_bottom):
        raise SecretError(
            "mutual refinement needs at least one local space (use_top or "
            "use_bottom); use refine: none for no refinement"
        )
    keep = g >= 0
    top_out, bottom_out = t, b
    if use_top:
        keep &= eliminate_noisy(g, t, k, denominator=denominator) >= 0
        top_out = eliminate_noisy(t, g, k, denominator=denominator)
    if use_bottom:
        keep &= eliminate_noisy(g, b, k, denominator=denominator) >= 0
        bottom_out = eliminate_noisy(b, g, k, denominator=denominator)
    global_out = np.where(keep, g, -1)
    return reindex(global_out), reindex(top_out), reindex(bottom_out)
