"""Re-ID metrics: hand-worked AP, agreement with scikit-learn, protocol, chunking, ranks."""

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import average_precision_score

from secret_core.data import Record, read_dataset
from secret_core.evaluation import (
    draw_rank_list,
    evaluate,
    evaluate_features,
    feature_distance,
    joint_distance,
    pairwise_distance,
)
from secret_core.evaluation.rerank import re_ranking


def test_hand_worked_ap():
    # one query (pid 1, cam 0); gallery sorted by distance: match, miss, match, miss
    dist = np.array([[0.1, 0.2, 0.3, 0.4]])
    result = evaluate(dist, [1], [1, 2, 1, 3], [0], [1, 1, 1, 1], max_rank=4)
    # AP = (1/1 + 2/3) / 2
    assert result["mAP"] == pytest.approx((1 + 2 / 3) / 2)
    assert result["cmc"].tolist() == [1, 1, 1, 1]
    assert result["mINP"] == pytest.approx(2 / 3)  # 2 matches, hardest at rank 3


def test_same_camera_matches_are_ignored_and_junk_too():
    dist = np.array([[0.1, 0.2, 0.3, 0.4]])
    # the closest match shares the query's camera: ignored; junk (-1) ignored as well
    result = evaluate(dist, [1], [1, -1, 2, 1], [0], [0, 1, 1, 1], max_rank=3)
    assert result["mAP"] == pytest.approx(0.5)  # the only valid match is at rank 2 of 2
    assert result["cmc"].tolist() == [0, 1, 1]


def test_queries_without_match_are_skipped_and_counted():
    dist = np.array([[0.1, 0.2], [0.3, 0.4]])
    result = evaluate(dist, [1, 9], [1, 2], [0, 0], [1, 1], max_rank=2)
    assert (result["num_valid_queries"], result["num_skipped_queries"]) == (1, 1)


def test_ties_count_against_the_match():
    dist = np.array([[0.5, 0.5]])
    result = evaluate(dist, [1], [1, 2], [0], [1, 1], max_rank=2)
    assert result["cmc"].tolist() == [0, 1]  # the tied non-match ranks first


@pytest.fixture(scope="module")
def random_problem():
    rng = np.random.default_rng(0)
    nq, ng = 60, 400
    return (
        rng.random((nq, ng)),
        rng.integers(0, 25, nq),
        rng.integers(0, 25, ng),
        rng.integers(0, 5, nq),
        rng.integers(0, 5, ng),
    )


def test_ap_agrees_with_sklearn(random_problem):
    dist, qp, gp, qc, gc = random_problem
    aps = []
    for i in range(len(qp)):
        valid = ~((gp == qp[i]) & (gc == qc[i]))
        truth = gp[valid] == qp[i]
        if truth.any():
            aps.append(average_precision_score(truth, -dist[i, valid]))
    result = evaluate(dist, qp, gp, qc, gc)
    assert result["mAP"] == pytest.approx(np.mean(aps), abs=1e-6)
    assert result["num_valid_queries"] == len(aps)


def test_chunked_equals_unchunked_and_cmc_monotone(random_problem):
    dist, qp, gp, qc, gc = random_problem
    whole = evaluate(dist, qp, gp, qc, gc, chunk_size=1000)
    chunked = evaluate(lambda a, b: dist[a:b], qp, gp, qc, gc, chunk_size=7)
    assert whole["mAP"] == pytest.approx(chunked["mAP"], abs=1e-12)
    assert np.array_equal(whole["cmc"], chunked["cmc"])
    assert (np.diff(whole["cmc"]) >= 0).all() and 0 <= whole["mINP"] <= 1


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_joint_distance_is_eq3():
    rng = np.random.default_rng(1)
    q = {b: unit(rng.normal(size=(3, 4))) for b in ("global", "top", "bottom")}
    g = {b: unit(rng.normal(size=(5, 4))) for b in ("global", "top", "bottom")}
    expected = pairwise_distance(q["global"], g["global"]) + 0.5 * (
        pairwise_distance(q["top"], g["top"]) + pairwise_distance(q["bottom"], g["bottom"])
    )
    assert np.allclose(joint_distance(q, g, 0.5), expected)
    assert np.allclose(
        feature_distance(q, g, "joint", 0.0), pairwise_distance(q["global"], g["global"])
    )
    d = pairwise_distance(q["top"], g["top"])
    assert np.allclose(d**2, 2 - 2 * q["top"] @ g["top"].T, atol=1e-5)


def test_evaluate_features_and_rerank_run():
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(10, 16))

    def feats(pids):
        return {
            b: unit(centres[pids] + 0.3 * rng.normal(size=(len(pids), 16)))
            for b in ("global", "top", "bottom")
        }

    qp, gp = np.arange(10), np.repeat(np.arange(10), 6)
    qc, gc = np.zeros(10, int), np.tile(np.arange(1, 7), 10)
    plain = evaluate_features(feats(qp), feats(gp), qp, gp, qc, gc, feature="joint")
    assert plain["mAP"] > 0.5
    qf, gf = feats(qp), feats(gp)
    rows = re_ranking(qf, gf, k1=5, k2=3)(0, 10)
    assert rows.shape == (10, 60) and np.isfinite(rows).all()


def test_rank_list_png(tmp_path):
    records = []
    for i, (pid, cam) in enumerate([(1, 0), (1, 1), (2, 1), (3, 2)]):
        path = tmp_path / f"{i}.png"
        Image.new("RGB", (16, 32), (60 * i, 0, 0)).save(path)
        records.append(Record(str(path), pid, cam))
    out = tmp_path / "ranks.png"
    drawn = draw_rank_list(records[:1], records[1:], np.array([[0.2, 0.1, 0.3]]), out, top_k=3)
    assert drawn == [0]
    with Image.open(out) as img:
        assert img.size[1] > 100
        # the match (pid 1) is second: its frame is green
        assert img.getpixel((74 * 2 + 10 + 1, 3)) == (0, 170, 0)


def test_protocol_on_real_market_files(market_mini):
    ds = read_dataset(market_mini)

    def hist(records):
        out = []
        for r in records:
            with Image.open(r.path) as img:
                h = np.asarray(img.convert("RGB").resize((8, 16)), dtype=np.float32).ravel()
            out.append(h / np.linalg.norm(h))
        return np.stack(out)

    qp = np.array([r.pid for r in ds.query])
    qc = np.array([r.camid for r in ds.query])
    gp = np.array([r.pid for r in ds.gallery])
    gc = np.array([r.camid for r in ds.gallery])
    expected_valid = sum(
        any(g.pid == q.pid and g.camid != q.camid for g in ds.gallery) for q in ds.query
    )
    result = evaluate(pairwise_distance(hist(ds.query), hist(ds.gallery)), qp, gp, qc, gc)
    assert result["num_valid_queries"] == expected_valid
    assert 0 < result["mAP"] <= 1
