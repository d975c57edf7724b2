"""Interpreter settings for the Snakemake process that plans the DAG.

Planning the paper's ``all`` creates millions of small, long-lived objects (about 7,000 jobs
with one seed, 21,000 with three). CPython's generational collector keeps running full
collections over all of them while they accumulate, though none of them is garbage: with the
default third threshold (10) that was about a tenth of the dry run's wall time
(``benchmarks/bench_dryrun.py``). Full collections still run, only a hundred times less often;
the young generations, where short-lived cycles die, keep their thresholds.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_THRESHOLD = 1000


def defer_full_collections(threshold: int = FULL_COLLECTION_THRESHOLD) -> tuple[int, int, int]:
    """Raise the collector's third threshold to ``threshold`` and return the former thresholds.

    Only the oldest generation's trigger moves; the first two stay as they were, so memory held
    by short-lived reference cycles is freed as often as before.
    """
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], max(threshold, before[2]))
    return before
