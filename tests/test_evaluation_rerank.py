"""k-reciprocal re-ranking against a dense transcription of the published algorithm."""

import numpy as np
import pytest

from secret_core.errors import SecretError
from secret_core.evaluation import evaluate, re_ranking, re_ranking_rows


def published_re_ranking(q, g, k1, k2, lambda_value):
    """Zhong et al. (CVPR 2017) re_ranking, dense, as in the authors' code, in float64."""
    nq = len(q)
    feat = np.concatenate([q, g]).astype(np.float64)
    n = len(feat)
    sq = (feat**2).sum(1)
    original = sq[:, None] + sq[None, :] - 2 * feat @ feat.T
    original = np.transpose(original / np.max(original, axis=0))
    v = np.zeros_like(original)
    initial_rank = np.argsort(original, kind="stable")
    for i in range(n):
        forward = initial_rank[i, : k1 + 1]
        backward = initial_rank[forward, : k1 + 1]
        recip = forward[np.where(backward == i)[0]]
        expansion = recip
        for cand in recip:
            c_forward = initial_rank[cand, : int(np.around(k1 / 2)) + 1]
            c_backward = initial_rank[c_forward, : int(np.around(k1 / 2)) + 1]
            c_recip = c_forward[np.where(c_backward == cand)[0]]
            if len(np.intersect1d(c_recip, recip)) > 2 / 3 * len(c_recip):
                expansion = np.append(expansion, c_recip)
        expansion = np.unique(expansion)
        weight = np.exp(-original[i, expansion])
        v[i, expansion] = weight / np.sum(weight)
    original = original[:nq]
    if k2 != 1:
        v = np.stack([np.mean(v[initial_rank[i, :k2]], axis=0) for i in range(n)])
    jaccard = np.zeros_like(original)
    for i in range(nq):
        temp_min = np.minimum(v[i][None, :], v).sum(axis=1)  # sum_f min(V_if, V_jf)
        jaccard[i] = 1 - temp_min / (2 - temp_min)
    final = jaccard * (1 - lambda_value) + original * lambda_value
    return final[:, nq:]


def clustered(rng, pids, centres, noise=0.6):
    x = centres[pids] + noise * rng.normal(size=(len(pids), centres.shape[1]))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(("k1", "k2", "lam"), [(6, 3, 0.3), (20, 6, 0.3), (4, 1, 0.5)])
def test_matches_published_formula(k1, k2, lam):
    rng = np.random.default_rng(k1)
    centres = rng.normal(size=(8, 12))
    q = clustered(rng, rng.integers(0, 8, 15), centres)
    g = clustered(rng, rng.integers(0, 8, 60), centres)
    ours = re_ranking(q, g, k1=k1, k2=k2, lambda_value=lam)
    assert ours.shape == (15, 60) and ours.dtype == np.float32
    assert np.allclose(ours, published_re_ranking(q, g, k1, k2, lam), atol=2e-5)


def test_rows_provider_matches_dense_and_helps_retrieval():
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(10, 16))
    qp, gp = np.arange(10), np.repeat(np.arange(10), 6)
    q, g = clustered(rng, qp, centres, 0.9), clustered(rng, gp, centres, 0.9)
    dense = re_ranking(q, g, k1=6, k2=3)
    rows = re_ranking_rows(q, g, k1=6, k2=3)
    assert np.allclose(np.concatenate([rows(0, 4), rows(4, 10)]), dense)
    qc, gc = np.zeros(10, int), np.tile(np.arange(1, 7), 10)
    assert evaluate(rows, qp, gp, qc, gc, chunk_size=3)["mAP"] > 0.5


def test_bad_input_and_size_limit(monkeypatch):
    x = np.eye(4, dtype=np.float32)
    with pytest.raises(SecretError):
        re_ranking(x, np.eye(3, dtype=np.float32))  # widths differ
    with pytest.raises(SecretError):
        re_ranking(x, x, k1=0)
    monkeypatch.setattr("secret_core.evaluation.rerank.MAX_DENSE_ENTRIES", 10)
    with pytest.raises(SecretError, match="re_ranking_rows"):
        re_ranking(x, x)
