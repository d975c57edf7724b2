"""How far a test set resolves the gap between two rows: paired standard errors over queries.

A row's mAP is the mean AP over the test set's queries. Two rows evaluated on the same
queries differ by the mean of per-query differences, and that mean has a standard error
over queries even with the trained models fixed. On the demo's ~80 queries it is about
0.8 mAP for a paired gap (docs/DEMO_EFFECT.md, section 25), so an ordering that rests on a
smaller gap is not resolved by the test set, whatever the seeds say. Seeds measure the
training's spread; this measures the test set's, and ``seed_gap`` the training's (the
paired error over seeds). Kept apart from ``tables`` so a benchmark can use it without
pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from secret_core.errors import SecretError
from secret_core.reporting.ranking import ranking_feature


def query_aps(summary: Mapping, feature: str, epoch: str = "final") -> np.ndarray | None:
    """Per-query AP of one summary's ``feature`` at ``epoch`` ('final' or 'start'), or None
    for a summary evaluated before eval.json kept per-query AP. ``feature`` may be
    ``ranking.TRAINED``: the feature the experiment ranks with, as its table row does."""
    aps = summary[epoch][ranking_feature(summary, feature)].get("ap")
    return None if aps is None else np.asarray(aps, dtype=np.float64)


def paired_gap(big: Sequence[np.ndarray], small: Sequence[np.ndarray]) -> tuple[float, float, int]:
    """(mean gap, its standard error over queries, number of queries), gap in mAP points.

    ``big`` and ``small`` hold one per-query AP array per seed, seeds paired by position.
    The per-query difference is averaged over seeds first, so the error is that of the
    seed-mean gap from the query sample alone (the models held fixed).
    """
    if len(big) != len(small) or not big:
        raise SecretError(
            f"paired_gap needs one AP array per seed on both sides, got {len(big)} and {len(small)}"
        )
    sizes = {len(a) for a in (*big, *small)}
    if len(sizes) != 1:
        raise SecretError(
            f"per-query APs of {sorted(sizes)} queries: the rows were evaluated on different "
            "test sets, so their gap has no paired error; evaluate both on one test set"
        )
    (num_queries,) = sizes
    if num_queries < 2:
        raise SecretError("a paired error over queries needs at least 2 valid queries")
    diff = np.mean([np.asarray(a) - np.asarray(b) for a, b in zip(big, small, strict=True)], axis=0)
    se = float(diff.std(ddof=1) / np.sqrt(num_queries))
    return 100.0 * float(diff.mean()), 100.0 * se, num_queries


def seed_gap(big: Sequence[float], small: Sequence[float]) -> tuple[float, float | None, int]:
    """(mean gap, its standard error over seeds, seeds where big >= small), seeds paired by
    position; the error is None below 3 seeds.

    The query error above holds the models fixed; this one is the training's: how far the
    gap moves when only the seed does. A gap that changes sign from seed to seed and sits
    within about twice this error is a tie on those seeds, not an ordering.
    """
    if len(big) != len(small) or not big:
        raise SecretError(
            f"seed_gap needs one value per seed on both sides, got {len(big)} and {len(small)}"
        )
    diff = np.asarray(big, dtype=np.float64) - np.asarray(small, dtype=np.float64)
    se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size >= 3 else None
    return float(diff.mean()), se, int((diff >= 0).sum())
