"""Distances (Euclidean, cosine, joint Eq. 3) and chunked evaluation from features."""

import numpy as np
import pytest

from secret_core.errors import SecretError
from secret_core.evaluation import (
    evaluate,
    evaluate_features,
    feature_distance,
    joint_distance,
    pairwise_distance,
)

BRANCHES = ("global", "top", "bottom")


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_euclidean_is_not_squared_and_cosine():
    q, g = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    assert np.allclose(pairwise_distance(q, g), [[np.sqrt(2), 0, 2]])
    assert np.allclose(pairwise_distance(q, g, "cosine"), [[1, 0, 2]])
    with pytest.raises(SecretError):
        pairwise_distance(q, g, "manhattan")
    with pytest.raises(SecretError):
        pairwise_distance(q, np.ones((2, 3)))


def test_joint_distance_is_eq3():
    rng = np.random.default_rng(1)
    q = {b: unit(rng.normal(size=(3, 4))) for b in BRANCHES}
    g = {b: unit(rng.normal(size=(5, 4))) for b in BRANCHES}

    def d(a, b):  # plain Euclidean, written out
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    eta = 0.5
    expected = (
        d(q["global"], g["global"])
        + eta * d(q["top"], g["top"])
        + eta * d(q["bottom"], g["bottom"])
    )
    assert np.allclose(joint_distance(q, g, eta), expected, atol=1e-5)
    assert np.allclose(feature_distance(q, g, "joint", eta), expected, atol=1e-5)
    assert np.allclose(feature_distance(q, g, "joint", 0.0), d(q["global"], g["global"]), atol=1e-5)
    assert np.allclose(feature_distance(q, g, "top"), d(q["top"], g["top"]), atol=1e-5)
    with pytest.raises(SecretError):
        feature_distance(q, g, "middle")
    with pytest.raises(SecretError, match="top"):
        joint_distance({"global": q["global"]}, g, 1.0)


@pytest.fixture(scope="module")
def feats():
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(12, 16))

    def make(pids):
        return {b: unit(centres[pids] + 0.8 * rng.normal(size=(len(pids), 16))) for b in BRANCHES}

    qp, gp = rng.integers(0, 12, 30), rng.integers(0, 12, 120)
    qc, gc = rng.integers(0, 3, 30), rng.integers(0, 3, 120)
    return make(qp), make(gp), qp, gp, qc, gc


@pytest.mark.parametrize("feature", ["global", "top", "bottom", "joint", "concat"])
def test_evaluate_features_equals_dense(feats, feature):
    qf, gf, qp, gp, qc, gc = feats
    dense = evaluate(feature_distance(qf, gf, feature, 0.7), qp, gp, qc, gc)
    chunked = evaluate_features(qf, gf, qp, gp, qc, gc, feature=feature, eta=0.7, chunk_size=4)
    assert chunked["mAP"] == pytest.approx(dense["mAP"], abs=1e-12)
    assert np.array_equal(chunked["cmc"], dense["cmc"])


def test_evaluate_features_rerank_and_errors(feats):
    qf, gf, qp, gp, qc, gc = feats
    r = evaluate_features(qf, gf, qp, gp, qc, gc, feature="joint", rerank=True, max_rank=5)
    assert 0 < r["mAP"] <= 1 and r["cmc"].shape == (5,)
    with pytest.raises(SecretError, match="bottom"):
        evaluate_features({"global": qf["global"]}, gf, qp, gp, qc, gc, feature="bottom")
    with pytest.raises(SecretError):
        evaluate_features(qf, gf, qp, gp, qc, gc, feature="left")


def test_squared_euclidean_changes_the_joint_ranking_only():
    """Squared and plain Euclidean rank one space alike, but their Eq. 3 sums differ."""
    q = {b: np.array([[1.0, 0.0]]) for b in BRANCHES}
    angles = {"global": (0.0, 1.0), "top": (2.0, 1.3), "bottom": (2.0, 1.3)}  # per gallery item
    g = {b: np.array([[np.cos(a), np.sin(a)] for a in angles[b]]) for b in BRANCHES}
    plain = pairwise_distance(q["top"], g["top"])
    squared = pairwise_distance(q["top"], g["top"], "squared_euclidean")
    assert np.allclose(squared, plain**2, atol=1e-6)
    assert np.array_equal(np.argsort(plain, axis=1), np.argsort(squared, axis=1))
    joint = joint_distance(q, g, 1.0)
    joint_sq = joint_distance(q, g, 1.0, "squared_euclidean")
    assert np.allclose(joint_sq, sum(pairwise_distance(q[b], g[b]) ** 2 for b in BRANCHES))
    # item 0: far in top/bottom only (3.366 vs 5.665 squared); item 1: moderately far in all
    # three spaces (3.380 vs 3.849): squaring punishes the large distances more
    assert np.argmin(joint[0]) == 0 and np.argmin(joint_sq[0]) == 1
    assert np.allclose(
        feature_distance(q, g, "joint", 1.0, "squared_euclidean"), joint_sq, atol=1e-6
    )
    with pytest.raises(SecretError, match=r"evaluation\.distance"):
        feature_distance(q, g, "joint", 1.0, "manhattan")


def test_evaluate_features_honours_the_distance(feats):
    qf, gf, qp, gp, qc, gc = feats
    for metric in ("euclidean", "squared_euclidean"):
        dense = evaluate(feature_distance(qf, gf, "joint", 0.7, metric), qp, gp, qc, gc)
        chunked = evaluate_features(
            qf, gf, qp, gp, qc, gc, feature="joint", eta=0.7, chunk_size=4, distance=metric
        )
        assert chunked["mAP"] == pytest.approx(dense["mAP"], abs=1e-12)


def test_concat_is_the_renormalised_concatenation_by_hand():
    # Unit parts: the joined vector has length sqrt(3) before renormalising, so its squared
    # distance is the mean of the three squared distances.
    q = {
        "global": np.array([[1.0, 0.0]]),
        "top": np.array([[1.0, 0.0]]),
        "bottom": np.array([[0.0, 1.0]]),
    }
    g = {
        "global": np.array([[0.0, 1.0]]),
        "top": np.array([[1.0, 0.0]]),
        "bottom": np.array([[0.0, 1.0]]),
    }
    # squared distances per space: 2, 0, 0 -> (2 + 0 + 0) / 3
    assert np.allclose(feature_distance(q, g, "concat", metric="squared_euclidean"), [[2 / 3]])
    assert np.allclose(feature_distance(q, g, "concat"), [[np.sqrt(2 / 3)]])


def test_concat_ranks_as_eq3_at_eta_one_under_squared_euclidean(feats):
    qf, gf, _, _, _, _ = feats
    concat = feature_distance(qf, gf, "concat", metric="squared_euclidean")
    joint = feature_distance(qf, gf, "joint", 1.0, metric="squared_euclidean")
    assert np.allclose(3 * concat, joint, atol=1e-5)
    plain = feature_distance(qf, gf, "joint", 1.0, metric="euclidean")
    assert not np.array_equal(np.argsort(concat, axis=1), np.argsort(plain, axis=1))
