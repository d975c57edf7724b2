"""A clustering step's matrix stores only what eps and DBSCAN read, and gives their numbers.

Against the whole matrix (every pair below 1) computed by the same library: eps bitwise, the
neighbourhood graph DBSCAN receives entry for entry, and the labels; through the sampled cut,
through the recomputation when the sample's cut is short, and with eps known.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from test_clustering_jaccard import _encodings_with_duplicates, _same_bits, blobs

from secret_core.clustering import choose_eps, cluster, clustering_distance, cut_for_eps
from secret_core.clustering import cut as cut_module
from secret_core.clustering import overlap as overlap_module
from secret_core.clustering.dbscan import neighbourhood_graph
from secret_core.clustering.jaccard import reciprocal_encoding
from secret_core.errors import SecretError


@pytest.fixture(scope="module")
def encoding() -> sp.csr_matrix:
    feats = blobs(600, 16, 35, 0.5, seed=8)
    feats = np.concatenate([feats, feats[:5]])  # duplicates: zeros off the diagonal
    return reciprocal_encoding(feats, 20, 6, device="cpu")


@pytest.fixture(scope="module")
def whole(encoding) -> sp.csr_matrix:
    return overlap_module.jaccard_from_encoding(encoding)


def _same_graph(a: sp.csr_matrix, b: sp.csr_matrix, eps: float) -> bool:
    return _same_bits(neighbourhood_graph(a, eps), neighbourhood_graph(b, eps))


def test_cut_for_eps_by_hand():
    """float32(0.3) lies above 0.3, so a stored 0.3 is not a neighbour at eps 0.3 (the dense
    float64 comparison): the largest float32 neighbour is the one below, and the cut is the
    float32 0.3 itself. At eps 0.5 (a float32) the midpoint 0.5 + 2^-25 still rounds to
    0.5, a neighbour, and lies below the cut 0.5 + 2^-24."""
    assert cut_for_eps(0.3) == float(np.float32(0.3))
    assert cut_for_eps(0.5) == 0.5 + 2.0**-24
    assert np.float32(0.5 + 2.0**-25) == np.float32(0.5) and cut_for_eps(0.5) > 0.5 + 2.0**-25
    assert cut_for_eps(1.0 - 1e-12) == 1.0


def test_cut_for_eps_keeps_every_neighbour():
    """Every float64 distance whose float32 is a neighbour at eps lies below the cut, and
    the float32 just above the neighbours is not below it, over many eps."""
    rng = np.random.default_rng(3)
    for eps in rng.uniform(0.01, 0.99, 500):
        t = cut_module.largest_at_most(eps, np.dtype(np.float32))
        up = np.nextafter(t, np.float32(1.0))
        d = np.linspace(float(t), float(up), 41)  # float64 values across the float32 step
        neighbours = d[d.astype(np.float32) <= t]
        assert (neighbours < cut_for_eps(eps)).all()
        assert not float(up) < cut_for_eps(eps)


def test_first_rows_equal_those_of_the_whole_matrix(monkeypatch):
    """``rows`` computes rows [0, rows) exactly as the whole matrix does and leaves the rest
    empty, on the numpy path (many blocks) and in the compiled kernel."""
    for v in _encodings_with_duplicates():
        full = overlap_module.jaccard_from_encoding(v, compiled=False)
        for rows in (0, 1, 37, v.shape[0]):
            for compiled in (False, True):
                monkeypatch.setattr(overlap_module, "PAIR_BUDGET", 3000)
                part = overlap_module.jaccard_from_encoding(v, compiled=compiled, rows=rows)
                assert part.shape == full.shape
                assert np.array_equal(part.indptr[rows + 1 :], np.full(v.shape[0] - rows, part.nnz))
                assert _same_bits(part[:rows], full[:rows])


@pytest.mark.parametrize("eps", [0.2, 0.45, 0.7])
def test_known_eps_gives_dbscan_the_same_graph(encoding, whole, eps):
    step = clustering_distance(encoding, eps=eps)
    assert step.eps == eps and step.cut == cut_for_eps(eps)
    assert step.distance.nnz < whole.nnz
    assert _same_graph(step.distance, whole, eps)
    assert np.array_equal(
        cluster(None, eps, 4, distance=step.distance), cluster(None, eps, 4, distance=whole)
    )


@pytest.mark.parametrize("neighbours", [3.0, 10.0, 20.0])
def test_sampled_cut_gives_the_same_eps_and_labels(encoding, whole, neighbours):
    """A 64-row sample sets the cut; eps is bitwise that of the whole matrix."""
    rho = neighbours / (encoding.shape[0] - 1)
    step = clustering_distance(encoding, rho=rho, sample=64)
    assert step.cut < 1.0 and step.distance.nnz < whole.nnz
    assert step.eps == choose_eps(whole, rho)
    assert _same_graph(step.distance, whole, step.eps)


def test_short_cut_is_recomputed(encoding, whole, monkeypatch):
    """A sample whose cut keeps far too few pairs: the whole matrix is computed again, and
    eps and labels stay those of the whole matrix."""
    rho = 10.0 / (encoding.shape[0] - 1)
    monkeypatch.setattr(cut_module, "MARGIN", 0.05)
    step = clustering_distance(encoding, rho=rho, sample=64)
    assert step.cut == 1.0 and _same_bits(step.distance, whole)
    assert step.eps == choose_eps(whole, rho)


def test_cut_just_above_eps_reaches_its_float32_step(encoding, whole, monkeypatch):
    """With rho taking one value, eps is the smallest non-zero distance s; a cut halfway to
    the next float32 holds it but not every distance rounding to s in float32, so the step
    recomputes at ``cut_for_eps(s)``."""
    upper = sp.triu(whole, 1).tocsr()
    count = encoding.shape[0] * (encoding.shape[0] - 1) // 2 - int((upper.data == 0).sum())
    s = float(upper.data[upper.data > 0].min())
    halfway = (s + float(np.nextafter(np.float32(s), np.float32(1.0)))) / 2
    monkeypatch.setattr(cut_module, "cut_for_rho", lambda *a, **k: halfway)
    step = clustering_distance(encoding, rho=1.0 / count)
    assert step.eps == s == choose_eps(whole, 1.0 / count)
    assert step.cut == cut_for_eps(s) > halfway
    assert _same_graph(step.distance, whole, s)


def test_small_targets_store_every_pair_at_the_first_epoch(encoding, whole):
    rho = 10.0 / (encoding.shape[0] - 1)
    step = clustering_distance(encoding, rho=rho)  # 605 rows: under twice SAMPLE_MIN
    assert step.cut == 1.0 and _same_bits(step.distance, whole)


def test_bad_arguments_raise(encoding):
    with pytest.raises(SecretError, match="either eps or rho"):
        clustering_distance(encoding)
    with pytest.raises(SecretError, match="max_distance"):
        clustering_distance(encoding, eps=0.8, max_distance=0.8)
    with pytest.raises(SecretError, match=r"adapt\.max_distance"):  # rho needs pairs beyond it
        clustering_distance(encoding, rho=0.5, max_distance=0.2, sample=64)
