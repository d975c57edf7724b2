"""benchmarks/refinement_breakdown.py: its counts agree with the pipeline's refinement."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from refinement_breakdown import elimination_steps, filter_removals, identities_per_cluster

from secret_core.refinement import clean_members, mutual_refine


def test_identities_per_cluster_hand_worked():
    labels = np.array([0, 0, 0, 1, 1, -1, 2, 2, 2])
    truth = np.array([5, 6, 7, 5, 5, 9, 8, 8, 6])
    # cluster 0 holds ids 5, 6, 7; cluster 1 id 5 only; cluster 2 ids 8 and 6; the outlier none
    assert identities_per_cluster(labels, truth).tolist() == [3, 1, 2]


@pytest.mark.parametrize("denominator", ["clustered", "all"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_all_four_eliminations_are_secrets_training_set(seed, denominator):
    rng = np.random.default_rng(seed)
    g = rng.integers(-1, 6, size=200)
    # local spaces that mostly agree with the global one: a quarter of each relabelled
    t, b = (np.where(rng.random(200) < 0.25, rng.integers(-1, 6, size=200), g) for _ in "tb")
    steps = elimination_steps(g, t, b, 0.4, denominator)
    refined = mutual_refine(g, t, b, 0.4, denominator=denominator)
    trains = np.all([labels >= 0 for labels in refined], axis=0)
    assert np.array_equal(np.all(list(steps.values()), axis=0), trains)
    assert 0 < trains.sum() < 200  # the random sets neither keep nor drop everything


def test_filter_removals_hand_worked():
    """Global cluster 0 holds ids 1, 1, 1, 2 (the 2 is wrong), cluster 1 ids 3, 3, 4, 4 (a
    tie: the 4s are wrong); one outlier. The top filter removes the first wrong member and
    one right one, the bottom filter both 4s: of 3 wrong members top removes 1, bottom 2,
    both 0, either all; of 5 right ones top removes 1, bottom none."""
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1, -1])
    truth = np.array([1, 1, 1, 2, 3, 3, 4, 4, 9])
    kept_by_top = np.array([1, 1, 0, 0, 1, 1, 1, 1, 0], dtype=bool)
    kept_by_bottom = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0], dtype=bool)
    right = clean_members(g, truth)
    shares = filter_removals(kept_by_top, kept_by_bottom, (g >= 0) & ~right, right)
    expected = {"top": (1 / 3, 0.2), "bottom": (2 / 3, 0.0), "both": (0, 0), "either": (1, 0.2)}
    assert shares.keys() == expected.keys()
    for name, (wrong, right) in expected.items():
        assert shares[name] == pytest.approx((100 * wrong, 100 * right))
