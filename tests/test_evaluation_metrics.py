"""mAP / CMC / mINP: hand-worked values, scikit-learn agreement, protocol, ties, chunking."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from secret_core.errors import SecretError
from secret_core.evaluation import evaluate


def brute_force(dist, qp, gp, qc, gc, max_rank):
    """The usual per-query loop with a full stable argsort: the definition we must match."""
    aps, inps, cmc, valid = [], [], np.zeros(max_rank), 0
    for i in range(len(qp)):
        order = np.argsort(dist[i], kind="stable")
        keep = ~((gp[order] == qp[i]) & (gc[order] == qc[i])) & (gp[order] != -1)
        hits = np.flatnonzero((gp[order] == qp[i])[keep])
        if hits.size == 0:
            continue
        valid += 1
        aps.append(np.mean(np.arange(1, hits.size + 1) / (hits + 1)))
        inps.append(hits.size / (hits[-1] + 1))
        cmc[hits[0] :] += 1
    return np.mean(aps), cmc / valid, np.mean(inps), valid


def test_hand_worked_ap():
    # query pid 1, camera 0; gallery by distance: pid 1, pid 2, pid 1, pid 3, pid 1 (all cam 1)
    # matches at ranks 1, 3, 5 -> precisions 1/1, 2/3, 3/5
    # AP = (1 + 0.6667 + 0.6) / 3 = 0.7556 ; CMC = 1 from rank 1 ; INP = 3 matches / rank 5
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    r = evaluate(dist, [1], [1, 2, 1, 3, 1], [0], [1] * 5, max_rank=5)
    assert r["mAP"] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert r["cmc"].tolist() == [1, 1, 1, 1, 1]
    assert r["mINP"] == pytest.approx(3 / 5)
    assert isinstance(r["mAP"], float) and r["cmc"].shape == (5,)
    assert r["ap"].tolist() == pytest.approx([(1 + 2 / 3 + 3 / 5) / 3])


def test_per_query_ap_follows_query_order_and_skips_queries_without_a_match():
    # query 0: match at rank 2 (AP 1/2); query 1 (pid 9) has no match; query 2: rank 1 (AP 1)
    dist = np.array([[0.2, 0.1], [0.1, 0.2], [0.2, 0.1]])
    r = evaluate(dist, [1, 9, 2], [1, 2], [0, 0, 0], [1, 1], max_rank=2)
    assert r["ap"].tolist() == [0.5, 1.0]
    assert r["mAP"] == pytest.approx(r["ap"].mean())


def test_same_camera_matches_and_junk_are_ignored():
    # gallery: pid 1 cam 0 (same id AND camera: ignored), pid -1 (junk: ignored),
    # pid 2 cam 1 (rank 1), pid 1 cam 1 (rank 2) -> AP = 1/2, Rank-1 = 0
    dist = np.array([[0.1, 0.2, 0.3, 0.4]])
    r = evaluate(dist, [1], [1, -1, 2, 1], [0], [0, 1, 1, 1], max_rank=3)
    assert r["mAP"] == pytest.approx(0.5)
    assert r["cmc"].tolist() == [0, 1, 1]
    # the same id in another camera counts; a different id in the same camera counts too
    r = evaluate(dist, [1], [2, -1, 2, 1], [0], [0, 1, 1, 1], max_rank=3)
    assert r["cmc"].tolist() == [0, 0, 1]


def test_skipped_queries_are_counted():
    dist = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    # query 2: no gallery pid 9; query 3: its only match shares its camera
    r = evaluate(dist, [1, 9, 2], [1, 2], [0, 0, 1], [1, 1], max_rank=2)
    assert (r["num_valid_queries"], r["num_skipped_queries"]) == (1, 2)
    with pytest.raises(SecretError):
        evaluate(dist[1:2], [9], [1, 2], [0], [1, 1])


def test_ties_follow_stable_argsort_order():
    # equal distances: the lower gallery index ranks first
    assert evaluate(np.array([[0.5, 0.5]]), [1], [1, 2], [0], [1, 1], 2)["cmc"].tolist() == [1, 1]
    assert evaluate(np.array([[0.5, 0.5]]), [1], [2, 1], [0], [1, 1], 2)["cmc"].tolist() == [0, 1]


@pytest.mark.parametrize("levels", [3, 20])
def test_many_ties_match_brute_force(levels):
    rng = np.random.default_rng(levels)
    dist = rng.integers(0, levels, (40, 300)).astype(np.float32)
    qp, gp = rng.integers(-1, 15, 40), rng.integers(-1, 15, 300)
    qc, gc = rng.integers(0, 3, 40), rng.integers(0, 3, 300)
    r = evaluate(dist, qp, gp, qc, gc, max_rank=20, chunk_size=9)
    ap, cmc, inp, valid = brute_force(dist, qp, gp, qc, gc, 20)
    assert r["mAP"] == pytest.approx(ap, abs=1e-12)
    assert np.allclose(r["cmc"], cmc) and r["mINP"] == pytest.approx(inp, abs=1e-12)
    assert r["num_valid_queries"] == valid


@pytest.fixture(scope="module")
def random_problem():
    rng = np.random.default_rng(0)
    nq, ng = 70, 500
    return (
        rng.random((nq, ng)),
        rng.integers(0, 30, nq),
        rng.integers(-1, 30, ng),
        rng.integers(0, 5, nq),
        rng.integers(0, 5, ng),
    )


def test_ap_agrees_with_sklearn(random_problem):
    dist, qp, gp, qc, gc = random_problem
    aps = []
    for i in range(len(qp)):
        valid = ~((gp == qp[i]) & (gc == qc[i])) & (gp != -1)
        truth = gp[valid] == qp[i]
        if truth.any():
            aps.append(average_precision_score(truth, -dist[i, valid]))
    r = evaluate(dist, qp, gp, qc, gc)
    assert r["mAP"] == pytest.approx(np.mean(aps), abs=1e-6)
    assert r["num_valid_queries"] == len(aps)
    assert r["num_valid_queries"] + r["num_skipped_queries"] == len(qp)


def test_chunked_equals_unchunked_and_cmc_monotone(random_problem):
    dist, qp, gp, qc, gc = random_problem
    whole = evaluate(dist, qp, gp, qc, gc, chunk_size=10_000)
    calls = []

    def rows(start, stop):
        calls.append(stop - start)
        return dist[start:stop]

    chunked = evaluate(rows, qp, gp, qc, gc, chunk_size=7)
    assert max(calls) == 7 and sum(calls) == len(qp)
    assert whole["mAP"] == chunked["mAP"] and whole["mINP"] == chunked["mINP"]
    assert np.array_equal(whole["cmc"], chunked["cmc"])
    cmc = whole["cmc"]
    assert len(cmc) == 50 and (np.diff(cmc) >= 0).all() and cmc[0] >= 0 and cmc[-1] <= 1
    assert 0 <= whole["mINP"] <= 1 and 0 <= whole["mAP"] <= 1
    assert np.array_equal(whole["cmc"], brute_force(dist, qp, gp, qc, gc, 50)[1])


def test_float32_and_infinite_distances():
    dist = np.array([[np.inf, 0.2, 1.0, np.inf]], dtype=np.float32)
    # order (stable): 0.2 (pid 2), 1.0 (pid 1), inf idx0 (pid 1), inf idx3 (pid 3)
    r = evaluate(dist, [1], [1, 2, 1, 3], [0], [1, 1, 1, 1], max_rank=4)
    assert r["mAP"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_bad_input_is_one_line_secret_error():
    dist = np.zeros((2, 3))
    with pytest.raises(SecretError, match="shape"):
        evaluate(dist, [1, 2], [1, 2], [0, 0], [1, 1])
    with pytest.raises(SecretError, match="NaN"):
        evaluate(np.array([[np.nan, 0.1]]), [1], [1, 2], [0], [1, 1])
    with pytest.raises(SecretError, match="rows"):
        evaluate(lambda a, b: np.zeros((1, 2)), [1, 2], [1, 2], [0, 0], [1, 1])
    with pytest.raises(SecretError):
        evaluate(np.zeros((1, 2)), [1], [1, 2], [0], [1, 1], max_rank=0)
