"""How far one clustering step's Jaccard matrix has to reach, and that matrix.

Every pair of images whose encodings overlap has a distance below 1: about 2,400 pairs per
image on the benchmark's blobs at Market-1501 size (250 MiB of pairs; 750 MiB at MSMT17's),
of which about 20 lie below 0.95. What reads the matrix needs far fewer:

- DBSCAN at eps counts as neighbours only the pairs whose stored (float32) distance is at
  most eps (``dbscan.neighbourhood_graph``);
- the eps rule (``choose_eps``) averages the smallest rho share of the non-zero distances,
  about rho (N - 1) per image (10 with the demo's ``eps_neighbours``, 20.7 with the paper's
  rho on Market-1501).

So the step still sums every overlap, but stores only the pairs below a cut that covers both
readers, and eps and the labels are the same numbers as from the whole matrix:

- with eps known (a number in the config, or the first epoch's, which later epochs reuse) the
  cut is :func:`cut_for_eps`, exact by construction;
- at the first epoch a random sample of rows gives a cut below which about twice the pairs
  that eps averages lie (:func:`cut_for_rho`); the step then checks on the whole matrix that
  every value eps takes, and every pair DBSCAN reads at that eps, lies below the cut, and
  recomputes with a cut that reaches further where not (never on the benchmark's blobs or
  the demo's targets).

Writing a quarter of a GiB of pairs cost more than the search itself on a VM whose memory is
backed lazily (``benchmarks/bench_cluster.py``); it also set the step's peak memory.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from secret_core.clustering.checks import MAX_DISTANCE, check_max_distance
from secret_core.clustering.eps import choose_eps, eps_if_stored
from secret_core.clustering.overlap import jaccard_from_encoding
from secret_core.errors import SecretError

SAMPLE_SHARE = 1 / 32
"""Share of the rows whose distances estimate the first epoch's cut (3% of the sum of minima)."""

SAMPLE_MIN = 512
"""Fewest rows sampled; a target of fewer than twice this stores every pair at its first epoch
(its whole matrix costs less than a sample would save)."""

MARGIN = 2.0
"""The cut keeps about this many times the pairs that eps averages, by the sample: the sample's
count per row is a mean over at least 512 rows, and a short cut only costs a second pass."""


class StepDistance(NamedTuple):
    """The matrix a clustering step clusters, the eps it clusters at, and the cut it was
    stored with (pairs with distance at or above the cut are not stored)."""

    distance: sp.csr_matrix
    eps: float
    cut: float


def largest_at_most(value: float, dtype: np.dtype) -> np.floating:
    """The threshold t of ``dtype`` with (x <= t) == (float64(x) <= value) for every x of
    ``dtype``, so that a float32 graph is cut exactly where the dense float64 matrix of the
    same values would be (float32(0.3) is above 0.3)."""
    t = np.asarray(value, dtype=dtype)[()]
    return np.nextafter(t, dtype.type(-np.inf)) if float(t) > value else t


def cut_for_eps(eps: float) -> float:
    """The least cut that stores every pair DBSCAN at ``eps`` counts as neighbours.

    Those are the pairs whose float32 distance x has x <= t = :func:`largest_at_most` (eps).
    Rounding to nearest gives x <= t only for distances below the midpoint of t and the next
    float32 up, so every such distance lies below that next float32, the cut (at most 1).
    """
    top = largest_at_most(float(eps), np.dtype(np.float32))
    return min(float(np.nextafter(top, np.float32(np.inf))), 1.0)


def cut_for_rho(
    v: sp.csr_matrix,
    rho: float,
    *,
    max_distance: float = MAX_DISTANCE,
    chunk_size: int = 4096,
    sample: int | None = None,
    seed: int = 0,
) -> float:
    """A cut below which, on a random sample of rows of ``v``, about MARGIN times the
    pairs that ``choose_eps`` averages lie; ``max_distance`` where the sample cannot tell.

    The sample's rows go first in a permuted copy of V (distances do not depend on the rows'
    order), and their distances to all N rows come from the same code as the whole matrix.
    ``sample``: rows sampled (default: SAMPLE_SHARE of N, at least SAMPLE_MIN); at half of N
    or more the whole matrix is cheaper and ``max_distance`` is returned.
    """
    n = v.shape[0]
    rows = sample if sample is not None else max(SAMPLE_MIN, math.ceil(n * SAMPLE_SHARE))
    if 2 * int(rows) >= n:
        return max_distance
    order = np.random.default_rng(seed).permutation(n)
    part = jaccard_from_encoding(v.tocsr()[order], chunk_size, max_distance, rows=int(rows))
    values = part.data[part.data > 0]  # zeros are not averaged (each row's own, duplicates)
    wanted = math.ceil(MARGIN * float(rho) * (n - 1) * int(rows))  # pair ends in the sample
    if wanted >= values.size:
        return max_distance
    edge = np.partition(values, wanted)[wanted]
    return min(float(np.nextafter(np.float64(edge), np.inf)), max_distance)


def clustering_distance(
    v: sp.csr_matrix,
    *,
    eps: float | None = None,
    rho: float | None = None,
    max_distance: float = MAX_DISTANCE,
    chunk_size: int = 4096,
    sample: int | None = None,
) -> StepDistance:
    """The Jaccard matrix of encoding ``v`` cut where its readers allow, and the eps.

    Give ``eps`` (then the cut is :func:`cut_for_eps`) or ``rho`` (eps chosen by
    ``choose_eps`` as on the whole matrix). The eps and every neighbourhood DBSCAN sees at it
    equal those of ``jaccard_from_encoding(v, max_distance=max_distance)``: the values eps
    averages are the smallest of all (a stored value lies below every unstored one), and the
    cut is checked to reach ``cut_for_eps(eps)``. ``max_distance`` caps every cut.
    """
    max_distance = check_max_distance(max_distance)
    if (eps is None) == (rho is None):
        raise SecretError("clustering_distance takes either eps or rho")
    if eps is not None:
        eps = float(eps)
        if not eps < max_distance:
            raise SecretError(
                f"eps {eps:.3f} must be below max_distance (adapt.max_distance) "
                f"{max_distance}: pairs beyond it are not stored"
            )
        cut = min(cut_for_eps(eps), max_distance)
        return StepDistance(jaccard_from_encoding(v, chunk_size, cut), eps, cut)
    cut = cut_for_rho(v, rho, max_distance=max_distance, chunk_size=chunk_size, sample=sample)
    distance = jaccard_from_encoding(v, chunk_size, cut)
    chosen = eps_if_stored(distance, rho, max_distance=cut)[0]
    if chosen is None and cut >= max_distance:
        choose_eps(distance, rho, max_distance=max_distance)  # raises its one-line error
    if chosen is not None and cut_for_eps(chosen) <= cut:
        return StepDistance(distance, chosen, cut)
    del distance
    if chosen is not None:  # eps known, within one float32 step of the cut (see cut_for_eps)
        return clustering_distance(v, eps=chosen, max_distance=max_distance, chunk_size=chunk_size)
    distance = jaccard_from_encoding(v, chunk_size, max_distance)  # the sample's cut was short
    return StepDistance(
        distance, choose_eps(distance, rho, max_distance=max_distance), max_distance
    )
