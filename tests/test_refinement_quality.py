"""Label-quality metrics (paper, "Consistency Analysis"), worked out by hand."""

import json

import numpy as np
import pytest

from secret_core.errors import SecretError
from secret_core.refinement import (
    clean_members,
    consistency,
    label_accuracy,
    label_stats,
    overall_consistency,
)
from secret_core.refinement.quality import pair_quality


def test_accuracy_by_hand():
    """Cluster 0 = gt {5, 5, 6}: dominant 5, 2/3 clean. Cluster 1 = {7, 7}: 1. Cluster 2 =
    {9}: 1. Mean over clusters (not samples): (2/3 + 1 + 1) / 3 = 8/9; the outlier is out."""
    pred = np.array([0, 0, 0, 1, 1, -1, 2])
    gt = np.array([5, 5, 6, 7, 7, 7, 9])
    assert label_accuracy(pred, gt) == {
        "accuracy": pytest.approx(8 / 9),
        "num_clusters": 3,
        "num_outliers": 1,
        "num_labelled": 6,
    }


def test_accuracy_ties_ids_and_outliers():
    """A 1:1 cluster is half clean whichever id dominates; label and gt ids are arbitrary
    integers; with no cluster at all the accuracy is undefined (NaN)."""
    assert label_accuracy(np.array([4, 4]), np.array([1, 2]))["accuracy"] == 0.5
    assert label_accuracy(np.array([90, 90, 3]), np.array([-5, -5, 0]))["accuracy"] == 1.0
    none = label_accuracy(np.full(3, -1), np.array([1, 2, 3]))
    assert np.isnan(none["accuracy"]) and none["num_clusters"] == 0 and none["num_outliers"] == 3


def test_consistency_by_hand():
    """Samples 0-3 are labelled in both (sample 4 is an outlier in a and ignored).
    a = [0,0,1,1] against b = [0,0,0,1]: a's clusters {0,1} -> 1, {2,3} -> 1/2: 3/4.
    b against a: b's clusters {0,1,2} -> 2/3, {3} -> 1: 5/6. Consistency (3/4 + 5/6) / 2."""
    a = np.array([0, 0, 1, 1, -1])
    b = np.array([0, 0, 0, 1, 1])
    assert consistency(a, b) == pytest.approx((3 / 4 + 5 / 6) / 2)
    assert consistency(b, a) == consistency(a, b)
    assert consistency(a, a) == 1.0
    assert consistency(a, np.where(a >= 0, 10 - a, -1)) == 1.0  # names do not matter
    assert np.isnan(consistency(np.array([0, -1]), np.array([-1, 0])))


def test_overall_consistency_is_the_mean_over_pairs():
    a = np.array([0, 0, 1, 1])
    b = np.array([0, 0, 0, 1])
    expected = (consistency(a, a) + consistency(a, b) + consistency(a, b)) / 3
    assert overall_consistency([a, a, b]) == pytest.approx(expected)
    # a pair without commonly labelled samples is skipped
    c = np.array([-1, -1, -1, -1])
    assert overall_consistency([a, b, c]) == pytest.approx(consistency(a, b))
    assert np.isnan(overall_consistency([c, c]))
    with pytest.raises(SecretError, match="at least 2"):
        overall_consistency([a])


def test_label_stats_counts_and_quality():
    labels = np.array([3, 3, 8, 8, 8, -1])
    gt = np.array([1, 1, 2, 2, 2, 2])
    assert label_stats(labels) == {"num_clusters": 2, "num_outliers": 1, "num_labelled": 5}
    stats = label_stats(labels, gt)
    assert stats["accuracy"] == 1.0 and stats["nmi"] == pytest.approx(1.0)
    assert stats["ari"] == pytest.approx(1.0)
    json.dumps(stats)  # plain Python numbers


def test_label_stats_by_hand_with_noise():
    """pred [0,0,1,1] vs gt [0,0,0,1]: accuracy (1 + 1/2) / 2; ARI by the pair-count formula:
    index = C(2,2) = 1; expected = C(2,2)+C(2,2) = 2 times C(3,2)+C(1,2) = 3 over C(4,2) = 6,
    i.e. 1; max = (2 + 3) / 2 = 2.5; ARI = (1 - 1) / (2.5 - 1) = 0."""
    stats = label_stats(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]))
    assert stats["accuracy"] == pytest.approx(0.75)
    assert stats["ari"] == pytest.approx(0.0)
    assert 0 < stats["nmi"] < 1


def test_label_stats_degenerate_sets():
    stats = label_stats(np.full(3, -1), np.array([0, 1, 2]))
    assert stats["accuracy"] is None and stats["nmi"] is None and stats["ari"] is None
    assert stats["num_labelled"] == 0


def test_bad_inputs_raise():
    with pytest.raises(SecretError, match="ground truth"):
        label_accuracy(np.array([0, 1]), np.array([0, 1, 2]))
    with pytest.raises(SecretError, match="integers"):
        label_stats(np.array([0, 1]), np.array([0.5, 1.0]))
    with pytest.raises(SecretError, match="equal length"):
        consistency(np.array([0, 1]), np.array([0]))


def test_label_stats_are_json_friendly():
    stats = label_stats(np.array([0, 0, 1, -1]), np.array([1, 1, 2, 2]))
    assert stats["num_clusters"] == 2 and stats["accuracy"] == 1.0
    assert stats["nmi"] == pytest.approx(1.0) and isinstance(stats["ari"], float)
    json.dumps(stats)


def test_pair_quality_hand_worked():
    # ids:     0 0 0 0 | 1 1
    # cameras: 0 0 1 1 | 0 1
    # labels:  cluster 0 = the two camera-0 images of id 0 (pure, single camera);
    #          cluster 1 = id 0's first camera-1 image with id 1's camera-0 image (a merge);
    #          id 0's last image and id 1's camera-1 image are outliers.
    gt = np.array([0, 0, 0, 0, 1, 1])
    cams = np.array([0, 0, 1, 1, 0, 1])
    labels = np.array([0, 0, 1, -1, 1, -1])
    out = pair_quality(labels, gt, cams)
    # joined pairs: (0,1) correct same-camera, (2,4) wrong cross-camera -> precision 1/2
    # same-id pairs: C(4,2) + C(2,2) = 7; cross-camera ones: 7 - (1 + 1 + 0 + 0) = 5 (id 0:
    # cams {0,0,1,1} -> 4 cross pairs; id 1: 1 cross pair)
    assert out == {
        "pair_precision": 0.5,
        "pair_recall": 1 / 7,
        "cross_camera_recall": 0.0,
        "cross_camera_share": 0.5,
    }


def test_pair_quality_perfect_and_empty():
    gt = np.array([3, 3, 5, 5, 5])
    cams = np.array([1, 2, 1, 2, 2])
    perfect = pair_quality(gt.copy(), gt, cams)
    assert perfect["pair_precision"] == perfect["pair_recall"] == 1.0
    assert perfect["cross_camera_recall"] == 1.0
    # accuracy 1 for every cluster, yet single-camera pieces join no cross-camera pair
    pieces = np.array([0, 1, 2, 3, 3])
    assert label_accuracy(pieces, gt)["accuracy"] == 1.0
    cut = pair_quality(pieces, gt, cams)
    assert cut["pair_precision"] == 1.0 and cut["cross_camera_recall"] == 0.0
    none = pair_quality(np.full(5, -1), gt, cams)
    assert none["pair_precision"] is None and none["pair_recall"] == 0.0


def test_clean_members_by_hand():
    """Cluster 0 is mostly id 5; cluster 1 ties ids 7 and 8 (the smaller wins); the outlier
    is never clean; cluster 2 ties ids 9 and 3, so the two 3s are its clean members."""
    pred = np.array([0, 0, 0, 1, 1, -1, 2, 2, 2, 2])
    gt = np.array([5, 6, 5, 7, 8, 5, 9, 9, 3, 3])
    assert clean_members(pred, gt).tolist() == [1, 0, 1, 1, 0, 0, 0, 0, 1, 1]
    assert not clean_members(np.full(3, -1), np.array([1, 2, 3])).any()


def test_clean_members_count_what_accuracy_counts():
    """Per cluster, the clean members are its dominant-id count: accuracy x size."""
    rng = np.random.default_rng(0)
    pred, gt = rng.integers(-1, 12, size=300), rng.integers(0, 20, size=300)
    clean = clean_members(pred, gt)
    for c in range(12):
        members = pred == c
        assert clean[members].sum() == np.bincount(gt[members]).max()
    assert label_accuracy(pred, gt)["num_labelled"] >= clean.sum() > 0
