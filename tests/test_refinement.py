"""Mutual refinement (Algorithms 1 and 2) and the label-quality metrics."""

import numpy as np
import pytest

from secret_core.refinement import (
    consistency,
    eliminate_noisy,
    label_accuracy,
    label_stats,
    mutual_refine,
    overall_consistency,
    reindex,
)

# Paper Figure 4: global cluster {a..g}; top splits off a and e; bottom splits off e.
A, B, C, D, E, F, G = range(7)
GLOBAL = np.zeros(7, dtype=int)
TOP = np.array([1, 0, 0, 0, 2, 0, 0])
BOTTOM = np.array([0, 0, 0, 0, 1, 0, 0])


def test_figure4_example():
    g, t, b = mutual_refine(GLOBAL, TOP, BOTTOM, k=0.4)
    assert np.flatnonzero(g >= 0).tolist() == [B, C, D, F, G]
    # each local cluster lies inside the one global cluster: nothing is removed there
    assert (t >= 0).all() and (b >= 0).all()


def test_strictly_greater_than_k():
    target = np.zeros(5, dtype=int)
    reference = np.array([0, 0, 1, 1, 1])  # shares 0.4 and 0.6
    assert eliminate_noisy(target, reference, 0.4).tolist() == [-1, -1, 0, 0, 0]
    assert eliminate_noisy(target, reference, 0.39).tolist() == [0, 0, 0, 0, 0]
    assert eliminate_noisy(target, reference, 0.6).tolist() == [-1] * 5


def test_reference_outliers_and_denominators():
    target = np.zeros(5, dtype=int)
    reference = np.array([0, 0, -1, -1, 1])
    # clustered: shares over 3 clustered members: 2/3 kept, 1/3 dropped; outliers dropped
    assert eliminate_noisy(target, reference, 0.4).tolist() == [0, 0, -1, -1, -1]
    # all: shares over 5 members: 2/5 = 0.4 is not > 0.4
    assert eliminate_noisy(target, reference, 0.4, denominator="all").tolist() == [-1] * 5
    assert eliminate_noisy(target, reference, 0.3, denominator="all").tolist() == [0, 0, -1, -1, -1]


def test_outliers_empty_and_all_outlier_inputs():
    assert eliminate_noisy(np.array([-1, -1]), np.array([0, 0]), 0.4).tolist() == [-1, -1]
    g, t, b = mutual_refine(np.full(4, -1), np.full(4, -1), np.full(4, -1))
    assert (g == -1).all() and (t == -1).all() and (b == -1).all()
    empty = mutual_refine(np.array([], dtype=int), np.array([], dtype=int), np.array([], dtype=int))
    assert all(x.size == 0 for x in empty)


def brute_force(target, reference, k):
    out = np.full_like(target, -1)
    for label in set(target.tolist()) - {-1}:
        members = [i for i in range(len(target)) if target[i] == label and reference[i] >= 0]
        for m in {reference[i] for i in members}:
            chosen = [i for i in members if reference[i] == m]
            if len(chosen) > k * len(members):
                out[chosen] = label
    return out


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(-1, 8, 300)
    reference = rng.integers(-1, 6, 300)
    for k in (0.1, 0.4, 0.7):
        assert np.array_equal(
            eliminate_noisy(target, reference, k), brute_force(target, reference, k)
        )


@pytest.mark.parametrize("seed", range(3))
def test_refined_sets_are_subsets_and_reindexed(seed):
    rng = np.random.default_rng(seed)
    g, t, b = (rng.integers(-1, 10, 500) for _ in range(3))
    rg, rt, rb = mutual_refine(g, t, b, k=0.3)
    for before, after in ((g, rg), (t, rt), (b, rb)):
        assert ((after >= 0) <= (before >= 0)).all()
        kept = np.unique(after[after >= 0])
        assert np.array_equal(kept, np.arange(kept.size))
        assert kept.size <= np.unique(before[before >= 0]).size
    # refining already consistent labels removes nothing
    same = reindex(g)
    assert np.array_equal(mutual_refine(same, same, same)[0], same)


def test_without_top_or_bottom():
    g, t, b = mutual_refine(GLOBAL, TOP, BOTTOM, use_top=False)
    assert np.flatnonzero(g < 0).tolist() == [E]
    assert np.array_equal(t, reindex(TOP))
    g, t, b = mutual_refine(GLOBAL, TOP, BOTTOM, use_bottom=False)
    assert np.flatnonzero(g < 0).tolist() == [A, E]
    assert np.array_equal(b, reindex(BOTTOM))


def test_label_accuracy_by_hand():
    pred = np.array([0, 0, 0, 1, 1, -1])
    gt = np.array([5, 5, 6, 7, 7, 7])
    result = label_accuracy(pred, gt)
    # cluster 0: 2 of 3 clean; cluster 1: 2 of 2 -> mean(2/3, 1)
    assert result["accuracy"] == pytest.approx((2 / 3 + 1) / 2)
    assert (result["num_clusters"], result["num_outliers"], result["num_labelled"]) == (2, 1, 5)


def test_consistency_by_hand():
    a = np.array([0, 0, 1, 1])
    b = np.array([0, 0, 0, 1])
    # acc(a vs b): clusters {0,1}->1.0, {2,3}->0.5 = 0.75; acc(b vs a): {0,1,2}->2/3, {3}->1
    assert consistency(a, b) == pytest.approx((0.75 + (2 / 3 + 1) / 2) / 2)
    assert consistency(a, a) == 1.0
    assert overall_consistency([a, a, b]) == pytest.approx((1 + 2 * consistency(a, b)) / 3)


def test_label_stats_json_friendly():
    stats = label_stats(np.array([0, 0, 1, -1]), np.array([1, 1, 2, 2]))
    assert stats["num_clusters"] == 2 and stats["accuracy"] == 1.0
    assert stats["nmi"] == pytest.approx(1.0) and isinstance(stats["ari"], float)
