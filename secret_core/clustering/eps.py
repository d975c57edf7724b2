"""The data-driven DBSCAN eps of the UDA Re-ID literature, from the sparse distance alone.

The authors' code takes the dense matrix's upper triangle, drops the zeros, sorts the rest
and averages the smallest ``round(rho * count)`` of them. In the sparse matrix every
unstored pair is exactly 1, so the count of non-zero upper-triangle distances is
N(N-1)/2 minus the stored upper-triangle zeros, and when fewer than the needed number of
non-zero values are stored the rest of the mean is made of ones.

Zeros are excluded from both the count and the mean, so which pairs come out as exactly 0
matters: the distance gives exactly 0 to, and only to, identical encodings (``overlap``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.sparse as sp

from secret_core.clustering.checks import MAX_DISTANCE, check_distance, check_max_distance
from secret_core.errors import SecretError

_ENTRIES_PER_PASS = 1 << 22  # stored entries scanned at once (~100 MiB of temporaries)


def _passes(dist: sp.csr_matrix) -> list[tuple[int, int]]:
    """Row ranges of about _ENTRIES_PER_PASS stored entries each (at least one row)."""
    n = dist.shape[0]
    bounds = [0]
    while bounds[-1] < n:
        start = bounds[-1]
        stop = int(np.searchsorted(dist.indptr, dist.indptr[start] + _ENTRIES_PER_PASS, "right"))
        bounds.append(min(max(stop - 1, start + 1), n))
    return list(itertools.pairwise(bounds))


def _upper_values(dist: sp.csr_matrix, start: int, stop: int) -> np.ndarray:
    """Stored values (i, j) with j > i of rows [start, stop)."""
    lo, hi = dist.indptr[start], dist.indptr[stop]
    rows = np.arange(start, stop, dtype=dist.indices.dtype)  # int32 compares at twice the speed
    rows = np.repeat(rows, np.diff(dist.indptr[start : stop + 1]))
    return dist.data[lo:hi][dist.indices[lo:hi] > rows]


def choose_eps(
    distance_csr: sp.spmatrix, rho: float = 1.6e-3, *, max_distance: float = MAX_DISTANCE
) -> float:
    """Mean of the smallest ``rho`` fraction of the non-zero upper-triangle distances.

    One pass over the rows keeps a running set of the smallest values while counting the
    stored zeros (which fix how many values the mean takes), so memory stays at about twice
    that count plus one pass. The sum is ``math.fsum``, exactly rounded: the mean is a
    function of the values alone, not of the order the partitions left them in (so not of
    the order of the samples). Wherever a float64 sum of them is exact, as with the
    previous ``mean`` on typical distances, it is the same number. Raises when that count
    rounds to zero (rho too small for N), where the authors' code would return NaN.

    ``max_distance``: the cut the matrix was computed with (``jaccard_distance``); pass the
    same value to both (the pipeline passes ``adapt.max_distance``). Below 1 the unstored
    pairs are no longer all exactly 1, so if the mean needs more than the stored values,
    padding with 1s would return a silently wrong eps (0.855 instead of 0.789 on one
    reproduced case); that raises instead.
    """
    eps, top, stored = eps_if_stored(distance_csr, rho, max_distance=max_distance)
    if eps is None:
        raise SecretError(
            f"eps with rho (adapt.rho) {rho} averages the {top} smallest non-zero distances "
            f"but only {stored} are stored below max_distance (adapt.max_distance) "
            f"{max_distance}; set adapt.max_distance: {MAX_DISTANCE:g} (stores every pair), "
            "lower adapt.rho, or set adapt.eps to a number"
        )
    return eps


def eps_if_stored(
    distance_csr: sp.spmatrix, rho: float, *, max_distance: float = MAX_DISTANCE
) -> tuple[float | None, int, int]:
    """:func:`choose_eps`'s (eps, values it averages, values stored among them), with eps
    None where a matrix cut below 1 stores too few values to know it (``cut`` then computes
    a matrix that reaches further)."""
    dist = check_distance(distance_csr)
    n = dist.shape[0]
    rho = float(rho)
    if not 0.0 < rho <= 1.0:
        raise SecretError(f"eps rho (adapt.rho) must be in (0, 1], got {rho}")
    max_distance = check_max_distance(max_distance)
    if n < 2:
        raise SecretError(f"choosing eps needs at least 2 samples, got {n}")
    passes = _passes(dist)

    # One pass keeps the smallest `guess` = round(rho * N(N-1)/2) non-zero values (at least
    # the `top` the mean takes: zeros only lower the count) and counts the zeros. Once it
    # holds `guess` values, only values below their largest can enter, so the later
    # partitions are tiny.
    total = n * (n - 1) // 2
    guess = int(np.round(rho * total))
    zeros, smallest = 0, np.zeros(0, dtype=dist.dtype)
    bound = np.inf if guess >= 1 else -np.inf  # values at or above it cannot enter
    for a, b in passes:
        values = _upper_values(dist, a, b)
        zeros += int(np.count_nonzero(values == 0))
        fresh = values[(values > 0) & (values < bound)]
        if fresh.size:
            smallest = np.concatenate([smallest, fresh])
            if smallest.size > guess:
                smallest = np.partition(smallest, guess - 1)[:guess]
            if smallest.size == guess:
                bound = smallest.max()
    count = total - zeros
    top = int(np.round(rho * count))
    if top < 1:
        raise SecretError(
            f"eps rho (adapt.rho) {rho} selects no pair among the {count} non-zero distances "
            f"of {n} samples; raise adapt.rho or set adapt.eps to a number"
        )
    if smallest.size > top:
        smallest = np.partition(smallest, top - 1)[:top]
    if smallest.size == top:
        return math.fsum(smallest.tolist()) / top, top, top
    if max_distance < 1.0:
        return None, top, int(smallest.size)
    rest = top - smallest.size  # unstored pairs: exactly 1
    return (math.fsum(smallest.tolist()) + rest) / top, top, int(smallest.size)


def rho_for_size(num_samples: int, neighbours: float) -> float:
    """The rho that gives each of ``num_samples`` images about ``neighbours`` pair ends.

    ``choose_eps`` averages the smallest ``rho * N(N-1)/2`` pair distances: that is
    ``rho * (N - 1)`` pair ends per image, so a fixed rho asks for more neighbours per image
    the larger the target, while the number of images per identity (which sets how many
    pairs are same-identity) does not grow with N. The paper's rho = 1.6e-3 at Market's
    12,936 images is 20.7 neighbours per image (about its 17 images per identity);
    a rho tuned to a 700-image target (2e-2: 14 neighbours) gives 41 on a 2,000-image
    one, an eps near the distances between identities and a handful of giant clusters.
    Fixing the neighbours instead keeps eps at the same place in every image's neighbour
    list whatever N is. Capped at 1.
    """
    if num_samples < 2:
        raise SecretError(f"choosing eps needs at least 2 samples, got {num_samples}")
    if not neighbours > 0:
        raise SecretError(f"adapt.eps_neighbours must be positive, got {neighbours}")
    return min(1.0, float(neighbours) / (num_samples - 1))
