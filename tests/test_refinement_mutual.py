"""Mutual refinement (paper Algorithms 1 and 2): hand-worked cases, edge cases, invariants,
and a brute-force transcription of the algorithms compared with the vectorised version."""

from fractions import Fraction

import numpy as np
import pytest

from secret_core.errors import SecretError
from secret_core.refinement import eliminate_noisy, mutual_refine, reindex

# Paper Figure 4: one global cluster {a..g}. The top space puts a and e into minority labels,
# the bottom space puts e into a minority label.
A, B, C, D, E, F, G = range(7)
GLOBAL = np.zeros(7, dtype=np.int64)
TOP = np.array([1, 0, 0, 0, 2, 0, 0])
BOTTOM = np.array([0, 0, 0, 0, 1, 0, 0])


# ---------------------------------------------------------------- brute-force reference


def brute_eliminate(target, reference, k, denominator="clustered"):
    """Algorithm 2 as written, one cluster and one reference label at a time, with exact
    fractions and the authors' rule for reference outliers."""
    k = Fraction(str(k))
    out = [-1] * len(target)
    for label in sorted(set(target) - {-1}):
        members = [i for i, t in enumerate(target) if t == label]
        clustered = [i for i in members if reference[i] != -1]
        size = len(clustered) if denominator == "clustered" else len(members)
        for m in sorted({reference[i] for i in clustered}):
            group = [i for i in clustered if reference[i] == m]
            if Fraction(len(group), size) > k:
                for i in group:
                    out[i] = label
    return out


def brute_reindex(labels):
    ids = sorted(set(labels) - {-1})
    return [-1 if x == -1 else ids.index(x) for x in labels]


def brute_refine(g, t, b, k, use_top=True, use_bottom=True, denominator="clustered"):
    """Algorithm 1 as written: G' = G_t ∩ G_b, L_t' = elim(L_t, G), L_b' = elim(L_b, G)."""
    g, t, b = list(g), list(t), list(b)
    keep = [x != -1 for x in g]
    top, bottom = t, b
    if use_top:
        keep = [
            a and x != -1 for a, x in zip(keep, brute_eliminate(g, t, k, denominator), strict=True)
        ]
        top = brute_eliminate(t, g, k, denominator)
    if use_bottom:
        keep = [
            a and x != -1 for a, x in zip(keep, brute_eliminate(g, b, k, denominator), strict=True)
        ]
        bottom = brute_eliminate(b, g, k, denominator)
    refined_g = [x if a else -1 for x, a in zip(g, keep, strict=True)]
    return brute_reindex(refined_g), brute_reindex(top), brute_reindex(bottom)


def random_labels(rng, n, clusters, outlier_rate, scale=1):
    labels = rng.integers(0, clusters, n) * scale
    labels[rng.random(n) < outlier_rate] = -1
    return labels


# ---------------------------------------------------------------- the paper's toy example


def test_figure4_toy_example():
    """Global cluster of 7. Top: majority {b,c,d,f,g} share 5/7 > 0.4 kept; a and e 1/7 each,
    dropped. Bottom: 6/7 kept, e 1/7 dropped. G' = G_t ∩ G_b = {b, c, d, f, g}. Each local
    cluster lies inside the one global cluster (share 1), so the local spaces lose nothing."""
    g, t, b = mutual_refine(GLOBAL, TOP, BOTTOM, k=0.4)
    assert np.flatnonzero(g >= 0).tolist() == [B, C, D, F, G]
    assert (g[g >= 0] == 0).all()
    assert t.tolist() == [1, 0, 0, 0, 2, 0, 0] and b.tolist() == BOTTOM.tolist()


def test_figure4_with_a_and_e_sharing_one_top_label():
    """If a and e share their top label, its share is 2/7 = 0.29 < 0.4: same result."""
    g, _, _ = mutual_refine(GLOBAL, np.array([1, 0, 0, 0, 1, 0, 0]), BOTTOM, k=0.4)
    assert np.flatnonzero(g >= 0).tolist() == [B, C, D, F, G]


def test_local_space_is_refined_by_global():
    """A top cluster spanning three global clusters in thirds loses all members at K = 0.4
    (1/3 < 0.4); a top cluster split 4:1 between two global clusters keeps its 4."""
    glob = np.array([0, 0, 1, 1, 2, 2, 3, 3, 3, 3, 4])
    top = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    assert eliminate_noisy(top, glob, 0.4).tolist() == [-1] * 6 + [1, 1, 1, 1, -1]


# ---------------------------------------------------------------- K boundary


def test_share_exactly_k_is_dropped_and_just_above_kept():
    target = np.zeros(5, dtype=np.int64)
    reference = np.array([0, 0, 1, 1, 1])  # shares 2/5 = 0.4 and 3/5 = 0.6
    assert eliminate_noisy(target, reference, 0.4).tolist() == [-1, -1, 0, 0, 0]
    assert eliminate_noisy(target, reference, 0.3999).tolist() == [0] * 5
    assert eliminate_noisy(target, reference, 0.6).tolist() == [-1] * 5
    assert eliminate_noisy(target, reference, 0.0).tolist() == [0] * 5


@pytest.mark.parametrize(("k", "size", "count"), [(0.58, 50, 29), (0.7, 90, 63), (0.29, 100, 29)])
def test_exact_share_is_compared_as_the_authors_count_above_size_times_k(k, size, count):
    """Here k * size rounds below count (0.7 * 90 = 62.99999999999999): the authors' code
    tests ``count > size * K`` and keeps this share of exactly K, so ours keeps it too."""
    assert count > size * k and not count / size > k  # the two forms disagree here
    target = np.zeros(size, dtype=np.int64)
    reference = np.r_[np.zeros(count, np.int64), np.arange(1, size - count + 1)]
    assert (eliminate_noisy(target, reference, k)[:count] == 0).all()
    assert (eliminate_noisy(target, reference, k)[count:] == -1).all()
    reference[count - 1] = size  # one member fewer: share just below K
    assert (eliminate_noisy(target, reference, k) == -1).all()


# ---------------------------------------------------------------- outliers and denominators


def test_reference_outliers_under_both_denominators():
    target = np.zeros(5, dtype=np.int64)
    reference = np.array([0, 0, -1, -1, 1])
    # clustered: over the 3 clustered members, 2/3 kept, 1/3 dropped; outliers never kept
    assert eliminate_noisy(target, reference, 0.4).tolist() == [0, 0, -1, -1, -1]
    # all: over all 5 members, 2/5 = 0.4 is not > 0.4
    assert eliminate_noisy(target, reference, 0.4, denominator="all").tolist() == [-1] * 5
    assert eliminate_noisy(target, reference, 0.3, denominator="all").tolist() == [
        0,
        0,
        -1,
        -1,
        -1,
    ]


def test_target_outliers_stay_and_ids_are_not_reindexed():
    target = np.array([7, 7, 7, -1, 12, 12])
    reference = np.array([3, 3, 3, 3, 5, 5])
    assert eliminate_noisy(target, reference, 0.4).tolist() == [7, 7, 7, -1, 12, 12]


def test_empty_and_all_outlier_inputs():
    empty = np.array([], dtype=np.int64)
    assert eliminate_noisy(empty, empty, 0.4).size == 0
    assert all(x.size == 0 for x in mutual_refine(empty, empty, empty))
    none = np.full(4, -1)
    assert eliminate_noisy(none, np.zeros(4, np.int64), 0.4).tolist() == [-1] * 4
    assert eliminate_noisy(np.zeros(4, np.int64), none, 0.4).tolist() == [-1] * 4
    assert all((x == -1).all() for x in mutual_refine(none, none, none))
    g, t, b = mutual_refine(np.zeros(4, np.int64), none, np.zeros(4, np.int64))
    assert (g == -1).all() and (t == -1).all() and (b == 0).all()


# ---------------------------------------------------------------- ablations


def test_secret_t_and_secret_b():
    """use_top=False (SECRET-T): only bottom filters global (e leaves), top is untouched.
    use_bottom=False (SECRET-B): only top filters global (a and e leave)."""
    g, t, b = mutual_refine(GLOBAL, TOP, BOTTOM, use_top=False)
    assert np.flatnonzero(g < 0).tolist() == [E]
    assert np.array_equal(t, reindex(TOP))
    g, t, b = mutual_refine(GLOBAL, TOP, BOTTOM, use_bottom=False)
    assert np.flatnonzero(g < 0).tolist() == [A, E]
    assert np.array_equal(b, reindex(BOTTOM))
    with pytest.raises(SecretError, match="local space"):
        mutual_refine(GLOBAL, TOP, BOTTOM, use_top=False, use_bottom=False)


# ---------------------------------------------------------------- brute force


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("denominator", ["clustered", "all"])
def test_eliminate_equals_brute_force(seed, denominator):
    rng = np.random.default_rng(seed)
    n = 400
    scale = 1 if seed % 2 else 1_000_003  # huge sparse ids take the sorting path
    target = random_labels(rng, n, 12, 0.15, scale)
    reference = random_labels(rng, n, 5 + seed, 0.2, scale)
    for k in (0.0, 0.1, 0.25, 0.4, 0.5, 0.7):
        got = eliminate_noisy(target, reference, k, denominator=denominator)
        assert got.tolist() == brute_eliminate(target.tolist(), reference.tolist(), k, denominator)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("use_top", "use_bottom"), [(True, True), (False, True), (True, False)])
def test_mutual_refine_equals_brute_force(seed, use_top, use_bottom):
    rng = np.random.default_rng(100 + seed)
    base = rng.integers(0, 15, 300)  # three noisy views of one partition, like the spaces
    views = []
    for _ in range(3):
        view = base.copy()
        flip = rng.random(300) < 0.25
        view[flip] = rng.integers(0, 20, flip.sum())
        view[rng.random(300) < 0.1] = -1
        views.append(view)
    got = mutual_refine(*views, k=0.4, use_top=use_top, use_bottom=use_bottom)
    want = brute_refine(*[v.tolist() for v in views], 0.4, use_top, use_bottom)
    for a, b in zip(got, want, strict=True):
        assert a.tolist() == b


# ---------------------------------------------------------------- invariants


@pytest.mark.parametrize("seed", range(4))
def test_refined_labels_are_a_relabelled_subset(seed):
    """Kept samples keep their cluster (old -> new id is one-to-one), nothing is added, there
    are never more clusters than before, and ids are 0..C-1."""
    rng = np.random.default_rng(seed)
    before = [random_labels(rng, 600, 25, 0.1) for _ in range(3)]
    after = mutual_refine(*before, k=0.3)
    for old, new in zip(before, after, strict=True):
        kept = new >= 0
        assert (old[kept] >= 0).all()
        pairs = set(zip(old[kept].tolist(), new[kept].tolist(), strict=True))
        assert len(pairs) == len({o for o, _ in pairs}) == len({n for _, n in pairs})
        assert np.array_equal(np.unique(new[kept]), np.arange(len(pairs)))
        assert len(pairs) <= np.unique(old[old >= 0]).size


@pytest.mark.parametrize("denominator", ["clustered", "all"])
def test_elimination_is_idempotent_and_monotone_in_k(denominator):
    """Idempotent: what survives has shares above K among the survivors too (the cluster
    only shrank). Monotone: a stricter K never keeps a sample a looser K dropped."""
    rng = np.random.default_rng(9)
    target, reference = random_labels(rng, 800, 30, 0.1), random_labels(rng, 800, 8, 0.1)
    once = eliminate_noisy(target, reference, 0.3, denominator=denominator)
    assert np.array_equal(eliminate_noisy(once, reference, 0.3, denominator=denominator), once)
    kept = [
        eliminate_noisy(target, reference, k, denominator=denominator) >= 0 for k in (0.1, 0.3, 0.5)
    ]
    assert (kept[1] <= kept[0]).all() and (kept[2] <= kept[1]).all()


def test_consistent_labels_are_a_fixed_point():
    """Three spaces that agree (up to label names) lose nothing."""
    rng = np.random.default_rng(4)
    labels = random_labels(rng, 500, 20, 0.1)
    renamed = np.where(labels >= 0, 100 - labels, -1)
    for out in mutual_refine(labels, renamed, labels * 3 + (labels < 0) * 2):
        assert np.array_equal(out >= 0, labels >= 0)
    assert np.array_equal(mutual_refine(labels, labels, labels)[0], reindex(labels))


# ---------------------------------------------------------------- input checks and speed


def test_bad_inputs_raise():
    with pytest.raises(SecretError, match="equal length"):
        eliminate_noisy(np.zeros(3, np.int64), np.zeros(4, np.int64), 0.4)
    with pytest.raises(SecretError, match="1-D"):
        eliminate_noisy(np.zeros((2, 2), np.int64), np.zeros((2, 2), np.int64), 0.4)
    with pytest.raises(SecretError, match="integer"):
        eliminate_noisy(np.array([0.5, 1.0]), np.array([0, 1]), 0.4)
    with pytest.raises(SecretError, match="-2"):
        eliminate_noisy(np.array([-2, 1]), np.array([0, 1]), 0.4)
    with pytest.raises(SecretError, match="strictness"):
        eliminate_noisy(np.array([0, 1]), np.array([0, 1]), 1.0)
    with pytest.raises(SecretError, match="denominator"):
        eliminate_noisy(np.array([0, 1]), np.array([0, 1]), 0.4, denominator="paper")
    with pytest.raises(SecretError, match="equal length"):
        mutual_refine(np.zeros(3, np.int64), np.zeros(3, np.int64), np.zeros(2, np.int64))
