"""Sparse k-reciprocal Jaccard distance against a dense reference written from the formula.

The reference follows Zhong et al. (CVPR 2017) with the conventions of the UDA Re-ID
literature's ``compute_jaccard_distance``: a kNN list of k1 entries including the sample,
forward sets ``rank[i, :k + 1]``, half size ``round(k1 / 2)``, expansion when the overlap is
strictly above 2/3, V = exp(-d) normalised over R*(i) with d the squared Euclidean distance,
query expansion over the first k2 neighbours, and d_J = 1 - sum(min) / sum(max). It uses
float64, dense N x N arrays and plain Python sets, so it shares no code path with the library.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from secret_core.clustering import jaccard_distance, knn
from secret_core.clustering import overlap as overlap_module
from secret_core.errors import SecretError


def blobs(n: int, dim: int, centres: int, spread: float, seed: int) -> np.ndarray:
    """L2-normalised Gaussian blobs: neighbourhoods overlap like those of Re-ID features."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, dim))
    x = means[rng.integers(centres, size=n)] + spread * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def dense_reference(features: np.ndarray, k1: int, k2: int) -> np.ndarray:
    """The published k-reciprocal Jaccard distance, dense and loop by loop."""
    x = features.astype(np.float64)
    n = len(x)
    sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)  # squared Euclidean distances
    rank = np.argsort(sq, axis=1, kind="stable")[:, :k1]

    def reciprocal(i: int, k: int) -> set[int]:
        return {int(j) for j in rank[i, : k + 1] if i in rank[j, : k + 1]}

    half = int(np.around(k1 / 2))
    r_full = [reciprocal(i, k1) for i in range(n)]
    r_half = [reciprocal(i, half) for i in range(n)]
    v = np.zeros((n, n))
    for i in range(n):
        expanded = set(r_full[i])
        for c in r_full[i]:
            if len(r_half[c] & r_full[i]) > 2 / 3 * len(r_half[c]):
                expanded |= r_half[c]
        cols = sorted(expanded)
        weights = np.exp(-sq[i, cols])
        v[i, cols] = weights / weights.sum()
    if k2 > 1:
        v = np.stack([v[rank[i, :k2]].mean(axis=0) for i in range(n)])
    dist = np.empty((n, n))
    for i in range(n):
        dist[i] = 1.0 - np.minimum(v[i], v).sum(1) / np.maximum(v[i], v).sum(1)
    return dist


def densify(dist: sp.csr_matrix) -> np.ndarray:
    """Dense copy with the unstored pairs at their value, 1."""
    out = np.ones(dist.shape)
    coo = dist.tocoo()
    out[coo.row, coo.col] = coo.data
    return out


FEATURES = blobs(500, 24, 30, 0.6, seed=7)


@pytest.fixture(scope="module")
def default_pair():
    """Library and reference at the paper's k1 = 30, k2 = 6."""
    return jaccard_distance(FEATURES, device="cpu"), dense_reference(FEATURES, 30, 6)


def test_equals_dense_reference_at_default_parameters(default_pair):
    sparse, dense = default_pair
    assert isinstance(sparse, sp.csr_matrix) and sparse.dtype == np.float32
    assert np.abs(densify(sparse) - dense).max() < 1e-5


@pytest.mark.parametrize(("k1", "k2"), [(20, 6), (7, 3), (12, 1)])
def test_equals_dense_reference_for_other_parameters(k1, k2):
    """k1 = 7 rounds the half size 3.5 to 4 (half to even); k2 = 1 skips query expansion."""
    feats = FEATURES[:300]
    sparse = jaccard_distance(feats, k1, k2, device="cpu")
    assert np.abs(densify(sparse) - dense_reference(feats, k1, k2)).max() < 1e-5


def test_stores_exactly_the_pairs_below_one(default_pair):
    sparse, dense = default_pair
    assert (sparse.data < 1).all()
    stored = densify(sparse) < 1
    assert np.array_equal(stored, dense < 1 - 1e-6)


def test_exactly_symmetric_with_explicit_zero_diagonal(default_pair):
    """sum(min) is symmetric in (i, j); the implementation keeps that exactly."""
    sparse, _ = default_pair
    assert (sparse != sparse.T).nnz == 0
    assert np.array_equal(sparse.diagonal(), np.zeros(sparse.shape[0]))
    rows = np.repeat(np.arange(sparse.shape[0]), np.diff(sparse.indptr))
    assert (sparse.data[rows == sparse.indices] == 0).sum() == sparse.shape[0]  # stored zeros


def test_duplicate_samples_are_stored_at_distance_zero():
    feats = np.concatenate([FEATURES[:120], FEATURES[:5]])
    sparse = jaccard_distance(feats, 10, 3, device="cpu")
    for i in range(5):
        row = sparse[i]
        assert 120 + i in row.indices  # stored even though its distance is zero
        assert row[0, 120 + i] == 0.0


def _stored(dist: sp.csr_matrix, i: int, j: int) -> float | None:
    row = slice(dist.indptr[i], dist.indptr[i + 1])
    hit = np.flatnonzero(dist.indices[row] == j)
    return float(dist.data[row][hit[0]]) if hit.size else None


def test_duplicated_features_give_exactly_zero():
    """Duplicated samples (pairs and a triple, in both orders) have identical encodings: their
    distance is stored and exactly 0.0, not the 1e-9..6e-8 that summation order left before,
    which the eps rule (it skips only exact zeros) would count as the smallest distances."""
    base = blobs(450, 16, 26, 0.5, seed=5)
    copies = [0, 1, 2, 3, 4, 5, 7, 7]  # 7 three times
    feats = np.concatenate([base, base[copies]])
    dist = jaccard_distance(feats, 20, 6, device="cpu")
    for offset, i in enumerate(copies):
        j = 450 + offset
        assert _stored(dist, i, j) == 0.0 and _stored(dist, j, i) == 0.0, (i, j)
    assert _stored(dist, 456, 457) == 0.0


def _encoding(rows: int, cols: int, per_row: int, seed: int) -> sp.csr_matrix:
    """Random non-negative float32 rows normalised to sum 1 (in float32: only about 1)."""
    rng = np.random.default_rng(seed)
    indices = np.concatenate([rng.choice(cols, per_row, replace=False) for _ in range(rows)])
    data = rng.exponential(size=rows * per_row).reshape(rows, per_row)
    data = (data / data.sum(1, keepdims=True)).astype(np.float32).ravel()
    indptr = np.arange(0, rows * per_row + 1, per_row)
    return sp.csr_matrix((data, indices, indptr), shape=(rows, cols))


def _dense_jaccard(v: sp.csr_matrix) -> np.ndarray:
    """1 - sum(min) / sum(max) in float64, pair by pair (the literature's definition)."""
    x = v.toarray().astype(np.float64)
    return np.stack([1 - np.minimum(r, x).sum(1) / np.maximum(r, x).sum(1) for r in x])


def test_identical_encoding_rows_are_exactly_zero_others_unchanged():
    """Identical rows: exactly 0 (whatever the rows sum to in float32, wherever they sit).
    Near-identical rows (one value 1 ulp off, or slightly perturbed): small but non-zero.
    All other pairs: the literature's value, to float32 precision."""
    v = _encoding(60, 80, 12, seed=3).tolil()
    v[40] = v[3]
    v[41] = v[3]
    v[42] = v[17]
    near = v[5].toarray().astype(np.float32)
    first = int(np.flatnonzero(near)[0])
    near[0, first] = np.nextafter(near[0, first], np.float32(1))
    v[43] = near
    v[44] = v[9].toarray() * np.float32(1.0001)
    v = v.tocsr()
    v.sort_indices()
    ref = _dense_jaccard(v)
    for max_rows in (4096, 7):
        dist = overlap_module.jaccard_from_encoding(v, max_rows=max_rows)
        for i, j in [(3, 40), (3, 41), (40, 41), (17, 42)]:
            assert _stored(dist, i, j) == 0.0 and _stored(dist, j, i) == 0.0
        assert 0.0 < _stored(dist, 5, 43) < 1e-6
        assert 0.0 < _stored(dist, 9, 44) < 1e-3
        dense = densify(dist)
        zero = dense == 0
        np.fill_diagonal(zero, False)
        assert set(zip(*np.nonzero(zero), strict=True)) == {
            (3, 40),
            (40, 3),
            (3, 41),
            (41, 3),
            (40, 41),
            (41, 40),
            (17, 42),
            (42, 17),
        }
        assert np.abs(dense - ref).max() < 1e-6


def test_query_expansion_does_not_depend_on_neighbour_order():
    """Samples with the same k2 neighbours listed in other orders (duplicates list each other
    first, tight groups share their neighbours) get bitwise-identical expanded encodings:
    here all 720 orders of one sample's six neighbours, on real encodings (weighting each
    row by 1/k2 before summing gave 8 different rows)."""
    import itertools

    from secret_core.clustering.encoding import encode, query_expand
    from secret_core.clustering.neighbours import expanded_sets

    feats = blobs(450, 16, 26, 0.5, seed=5)
    sims, rank = knn(feats, 20, device="cpu")
    v = encode(feats, expanded_sets(rank, 20), sims, rank)
    orders = np.array(list(itertools.permutations(rank[0, :6])))
    n = len(feats) + len(orders)
    padded = sp.csr_matrix(
        (v.data, v.indices, np.concatenate([v.indptr, np.full(len(orders), v.indptr[-1])])),
        shape=(n, n),
    )
    expanded = query_expand(padded, np.concatenate([rank[:, :6], orders]), 6)
    rows = expanded[len(feats) :].toarray()
    assert len({row.tobytes() for row in rows}) == 1


def test_permuting_samples_permutes_the_distance_exactly(monkeypatch):
    """Every sum depends on its values only, not on row order or blocking: P V P^T gives
    exactly P D P^T, so eps cannot depend on the order of the samples."""
    v = _encoding(300, 300, 15, seed=11).tolil()
    v[250] = v[10]
    v[251] = v[20]
    v = v.tocsr()
    dist = overlap_module.jaccard_from_encoding(v)
    perm = np.random.default_rng(0).permutation(300)
    monkeypatch.setattr(overlap_module, "PAIR_BUDGET", 997)
    moved = overlap_module.jaccard_from_encoding(v[perm][:, perm].tocsr(), max_rows=13)
    expected = dist[perm][:, perm].tocsr()
    expected.sort_indices()
    assert np.array_equal(moved.indptr, expected.indptr)
    assert np.array_equal(moved.indices, expected.indices)
    assert np.array_equal(moved.data, expected.data)


def test_result_does_not_depend_on_blocking(monkeypatch, default_pair):
    """Tiny chunks and a tiny pair budget force hundreds of blocks; results are identical."""
    sparse, _ = default_pair
    monkeypatch.setattr(overlap_module, "PAIR_BUDGET", 999)
    chunked = jaccard_distance(FEATURES, chunk_size=37, device="cpu")
    assert (chunked != sparse).nnz == 0
    assert np.array_equal(chunked.indptr, sparse.indptr)


def test_max_distance_drops_only_the_far_pairs(default_pair):
    """The pipeline's memory option: the same matrix minus the pairs at or above the cut."""
    sparse, _ = default_pair
    cut = jaccard_distance(FEATURES, device="cpu", max_distance=0.9)
    assert (cut.data < 0.9).all()
    assert cut.nnz == (sparse.data < 0.9).sum()
    assert np.array_equal(densify(cut), np.where(densify(sparse) < 0.9, densify(sparse), 1.0))
    with pytest.raises(SecretError, match="max_distance"):
        jaccard_distance(FEATURES[:10], device="cpu", max_distance=0.0)


def test_small_inputs():
    """Fewer samples than k1: the lists shrink to N; one sample is at distance 0 to itself."""
    one = jaccard_distance(FEATURES[:1], device="cpu")
    assert one.shape == (1, 1) and one.nnz == 1 and one[0, 0] == 0
    few = FEATURES[:12]
    assert (
        np.abs(densify(jaccard_distance(few, device="cpu")) - dense_reference(few, 12, 6)).max()
        < 1e-5
    )


def test_knn_puts_each_sample_first_even_with_duplicates():
    feats = np.repeat(FEATURES[:20], 3, axis=0)  # every sample has two exact copies
    sims, idx = knn(feats, 5, device="cpu")
    assert np.array_equal(idx[:, 0], np.arange(60))
    assert np.allclose(sims[:, 0], 1.0, atol=1e-5)
    assert all(len(set(row)) == 5 for row in idx.tolist())


MEMORY_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from test_clustering_jaccard import blobs
from secret_core.clustering import jaccard_distance, overlap


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024


overlap.PAIR_BUDGET = 1 << 16
feats = blobs(6000, 16, 360, 0.25, seed=3)
jaccard_distance(feats[:50], device="cpu")  # load faiss and warm the allocator first
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak (VmHWM) to the current resident size
before = status("VmRSS:")
dist = jaccard_distance(feats, device="cpu", chunk_size=512)
print(status("VmHWM:") - before, dist.nnz)
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_resident_memory_grows_with_pairs_not_n_squared():
    """At N = 6,000 one dense float32 matrix is 137 MiB (the literature holds three). In a
    fresh process, whose resident peak (VmHWM, reset just before the call) counts faiss and
    the lazily backed output pages alike, the whole Jaccard step adds less than half of one."""
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    added, nnz = (int(x) for x in result.stdout.split())
    assert added < 6000 * 6000 * 4 / 2, f"added {added / 2**20:.0f} MiB"
    assert nnz < 6000 * 6000 / 20


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (np.zeros((0, 4), np.float32), "non-empty"),
        (np.ones(5, np.float32), "non-empty"),
        (np.full((3, 2), np.nan, np.float32), "NaN"),
        (np.full((3, 2), 3.0, np.float32), "L2-normalised"),
    ],
)
def test_bad_features_raise(features, message):
    with pytest.raises(SecretError, match=message):
        jaccard_distance(features, device="cpu")


def test_bad_parameters_raise():
    with pytest.raises(SecretError, match="k1 >= 1"):
        jaccard_distance(FEATURES[:10], k1=0, device="cpu")
    with pytest.raises(SecretError, match="chunk_size"):
        jaccard_distance(FEATURES[:10], chunk_size=0, device="cpu")


def _encodings_with_duplicates() -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """A real encoding of blobs with duplicated samples, and a random one with a duplicated
    row: identical rows must come out exactly 0 on every path."""
    from secret_core.clustering.encoding import encode, query_expand
    from secret_core.clustering.neighbours import expanded_sets

    base = blobs(450, 16, 26, 0.5, seed=5)
    feats = np.concatenate([base, base[[0, 1, 7, 7]]])
    sims, rank = knn(feats, 20, device="cpu")
    real = query_expand(encode(feats, expanded_sets(rank, 20), sims, rank), rank, 6)
    rand = _encoding(300, 300, 15, seed=11).tolil()
    rand[250] = rand[10]
    return real, rand.tocsr()


def _both_paths(monkeypatch, v: sp.csr_matrix, **kwargs) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The distance by the scatter path (sums exact) and by the sorted path, forced."""
    assert overlap_module._sums_are_exact(v, overlap_module._fast_row_sums(v))
    scatter = overlap_module.jaccard_from_encoding(v, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(overlap_module, "_sums_are_exact", lambda *_: False)
        ordered = overlap_module.jaccard_from_encoding(v, **kwargs)
    return scatter, ordered


def _same_bits(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return (
        np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data.view(np.uint32), b.data.view(np.uint32))
    )


@pytest.mark.parametrize("max_distance", [1.0, 0.9])
def test_scatter_path_equals_sorted_path_bitwise(monkeypatch, max_distance):
    """When every float64 sum is exact, adding minima in column order (bincount) gives the
    very bits that the value-sorted sums give: real encodings with duplicated samples, and
    random ones with duplicated rows, under several block shapes."""
    for v in _encodings_with_duplicates():
        for budget, max_rows in [(1 << 18, 4096), (997, 13)]:
            monkeypatch.setattr(overlap_module, "SUM_BUDGET", budget)
            monkeypatch.setattr(overlap_module, "PAIR_BUDGET", max(budget, 1 << 10))
            scatter, ordered = _both_paths(
                monkeypatch, v, max_rows=max_rows, max_distance=max_distance
            )
            assert _same_bits(scatter, ordered)


def test_sums_that_could_round_take_the_sorted_path(monkeypatch):
    """Values spanning 2^-60..1 make float64 sums order-dependent: the exactness check says
    so, and the sorted path still gives identical rows exactly 0 and an exact symmetry."""
    v = _encoding(80, 90, 10, seed=4).tolil()
    v[0, int(np.flatnonzero(v[0].toarray())[0])] = np.float32(2.0**-60)
    v[70] = v[0]
    v = v.tocsr()
    assert not overlap_module._sums_are_exact(v, overlap_module._fast_row_sums(v))

    def refuse(*_: object) -> None:
        raise AssertionError("the scatter path was taken")

    monkeypatch.setattr(overlap_module, "_scatter_block", refuse)
    dist = overlap_module.jaccard_from_encoding(v)
    assert _stored(dist, 0, 70) == 0.0 and _stored(dist, 70, 0) == 0.0
    assert (dist != dist.T).nnz == 0


@pytest.mark.parametrize("max_distance", [1.0, 0.9])
def test_compiled_kernel_equals_numpy_scatter_bitwise(monkeypatch, max_distance):
    """The numba kernel walks each row's columns into a dense accumulator on the job's
    threads; with exact sums its pairs and float32 distances are the numpy path's bits, for
    real encodings with duplicated samples, a random one with a duplicated row and explicit
    zeros, in one block or many, on one thread and on two."""
    import numba

    real, rand = _encodings_with_duplicates()
    rand.data[::37] = 0.0  # explicit zeros: no overlap, distance 1, not stored
    threads = numba.get_num_threads()
    try:
        for v in (real, rand):
            numpy_path = overlap_module.jaccard_from_encoding(
                v, max_distance=max_distance, compiled=False
            )
            # one block, then blocks of a few rows (and single rows above the budget)
            for budget in (1 << 22, 3000):
                monkeypatch.setattr(overlap_module, "PAIR_BUDGET", budget)
                for n_threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
                    numba.set_num_threads(n_threads)
                    compiled = overlap_module.jaccard_from_encoding(
                        v, max_distance=max_distance, compiled=True
                    )
                    assert _same_bits(compiled, numpy_path)
    finally:
        numba.set_num_threads(threads)


def test_size_decides_the_compiled_kernel(monkeypatch):
    """Small encodings stay on numpy (no numba import for a demo-size job); from
    COMPILED_FROM_TRIPLES triples on, exact sums go to the kernel, and inexact ones never."""
    import secret_core.clustering.compiled_overlap as compiled_module

    calls = []
    kernel = compiled_module.compiled_jaccard

    def spy(*args, **kwargs):
        calls.append(args[0].shape[0])
        return kernel(*args, **kwargs)

    monkeypatch.setattr(compiled_module, "compiled_jaccard", spy)
    v = _encoding(120, 120, 10, seed=3)
    small = overlap_module.jaccard_from_encoding(v)
    assert calls == []
    monkeypatch.setattr(overlap_module, "COMPILED_FROM_TRIPLES", 1)
    large = overlap_module.jaccard_from_encoding(v)
    assert calls == [120] and _same_bits(small, large)
    monkeypatch.setattr(overlap_module, "_sums_are_exact", lambda *_: False)
    overlap_module.jaccard_from_encoding(v)
    assert calls == [120]
