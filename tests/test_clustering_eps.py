"""The data-driven eps from sparse values alone equals the authors' dense computation."""

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from test_clustering_jaccard import blobs, densify

from secret_core import MAX_DISTANCE
from secret_core.clustering import choose_eps, jaccard_distance
from secret_core.clustering.overlap import jaccard_from_encoding
from secret_core.errors import SecretError
from secret_core.io import save_arrays
from secret_core.pipeline.pseudo_labels import cluster_space


def dense_eps(dist: np.ndarray, rho: float) -> float:
    """The authors' procedure on the dense matrix: upper triangle, non-zeros, sorted, mean of
    the first round(rho * count)."""
    upper = np.triu(dist, 1)
    values = np.sort(upper[np.nonzero(upper)], axis=None)
    top = np.round(rho * values.size).astype(int)
    return float(values[:top].mean())


@pytest.fixture(scope="module")
def distance() -> sp.csr_matrix:
    feats = blobs(450, 16, 26, 0.5, seed=5)
    feats = np.concatenate([feats, feats[:6]])  # duplicates: zero distances above the diagonal
    return jaccard_distance(feats, 20, 6, device="cpu")


@pytest.mark.parametrize("rho", [1.6e-3, 1e-2, 0.05])
def test_equals_dense_computation(distance, rho):
    assert choose_eps(distance, rho) == pytest.approx(dense_eps(densify(distance), rho), rel=1e-6)


def test_pads_with_ones_beyond_the_stored_pairs(distance):
    """rho = 0.9 needs more pairs than are stored: the rest of the mean are the 1s."""
    upper = sp.triu(distance, 1)
    assert (upper.data > 0).sum() < 0.9 * (distance.shape[0] * (distance.shape[0] - 1) / 2)
    assert choose_eps(distance, 0.9) == pytest.approx(dense_eps(densify(distance), 0.9), rel=1e-6)


def test_hand_worked_example():
    """N = 4, stored upper pairs (0,1) 0.2, (0,2) 0 and (2,3) 0.5; the other three are 1.
    Non-zero pairs: 6 - 1 = 5. rho 0.4 -> 2 of them: (0.2 + 0.5) / 2. rho 0.8 -> 4:
    (0.2 + 0.5 + 1 + 1) / 4. The lower triangle mirrors and is ignored."""
    rows = [0, 1, 0, 2, 2, 3, 0, 1, 2, 3]
    cols = [1, 0, 2, 0, 3, 2, 0, 1, 2, 3]
    vals = [0.2, 0.2, 0.0, 0.0, 0.5, 0.5, 0, 0, 0, 0]
    dist = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(4, 4))
    assert choose_eps(dist, 0.4) == pytest.approx(0.35)
    assert choose_eps(dist, 0.8) == pytest.approx(0.675)
    assert choose_eps(dist, 0.25) == pytest.approx(0.2)  # round(1.25) = 1
    assert choose_eps(dist, 0.5) == pytest.approx(0.35)  # round(2.5) = 2: NumPy rounds half to even


def test_cut_matrix_gives_the_same_eps_or_raises():
    """With max_distance < 1 the result is exact while the smallest rho share is stored, and
    raises (instead of padding with 1s that are really in [max_distance, 1)) otherwise."""
    feats = blobs(450, 16, 26, 0.5, seed=5)
    full = jaccard_distance(feats, 20, 6, device="cpu")
    cut = jaccard_distance(feats, 20, 6, device="cpu", max_distance=0.8)
    assert choose_eps(cut, 1e-2, max_distance=0.8) == choose_eps(full, 1e-2)
    with pytest.raises(SecretError, match="max_distance") as info:
        choose_eps(cut, 0.5, max_distance=0.8)
    message = str(info.value)
    assert "\n" not in message
    assert "adapt.max_distance" in message and "adapt.rho" in message
    assert "set adapt.max_distance: 1" in message


def test_one_default_max_distance_everywhere():
    """Schema, functions and stage share one default, 1 (exact): with two defaults the stage
    once cut at 0.95 while eps assumed every pair below 1 was stored."""
    import inspect

    for function in (choose_eps, jaccard_distance, jaccard_from_encoding):
        assert inspect.signature(function).parameters["max_distance"].default == MAX_DISTANCE
    assert MAX_DISTANCE == 1.0


def _cluster_settings(max_distance: float, rho: float) -> dict:
    return {
        "space": "global",
        "k1": 20,
        "k2": 6,
        "device": "cpu",
        "eps": "auto",
        "rho": rho,
        "min_samples": 4,
        "max_distance": max_distance,
        "run": {"epoch": 1},
    }


def test_cluster_stage_passes_max_distance_to_eps(tmp_path):
    """The stage's eps from a matrix cut at adapt.max_distance: exact when the rho share is
    stored, one-line error naming the keys otherwise (it used to pad with 1s silently)."""
    feats = blobs(450, 16, 26, 0.5, seed=5)
    features = tmp_path / "features.npz"
    save_arrays(features, **{b: feats for b in ("global", "top", "bottom")})
    labels, stats = str(tmp_path / "labels.npy"), str(tmp_path / "stats.json")
    full = choose_eps(jaccard_distance(feats, 20, 6, device="cpu"), 1e-2)
    cluster_space(str(features), [], _cluster_settings(0.8, 1e-2), labels, stats)
    assert json.loads(Path(stats).read_text())["eps"] == full
    with pytest.raises(SecretError) as info:
        cluster_space(str(features), [], _cluster_settings(0.8, 0.5), labels, stats)
    message = str(info.value)
    assert "\n" not in message and "adapt.max_distance" in message and "adapt.rho" in message


def test_eps_does_not_depend_on_sample_order():
    """Duplicates give exact zeros (skipped by the rule), every other value is a function of
    its pair alone: the chosen eps is the same number for any order of the samples."""
    base = blobs(450, 16, 26, 0.5, seed=5)
    feats = np.concatenate([base, base[[0, 1, 2, 3, 4, 5, 7, 7]]])
    dist = jaccard_distance(feats, 20, 6, device="cpu")
    upper = sp.triu(dist, 1).data
    assert (upper[upper > 0] > 1e-6).all()  # no rounding residue of an identical encoding
    eps = choose_eps(dist, 1.6e-3)
    for seed in (1, 2):
        perm = np.random.default_rng(seed).permutation(len(feats))
        assert choose_eps(jaccard_distance(feats[perm], 20, 6, device="cpu"), 1.6e-3) == eps


def test_bad_inputs_raise(distance):
    with pytest.raises(SecretError, match="rho"):
        choose_eps(distance, 0.0)
    with pytest.raises(SecretError, match="rho"):
        choose_eps(distance, 1.5)
    with pytest.raises(SecretError, match="selects no pair"):
        choose_eps(distance[:20, :20], 1e-3)  # 190 pairs * 1e-3 rounds to 0
    with pytest.raises(SecretError, match="at least 2"):
        choose_eps(sp.csr_matrix((1, 1), dtype=np.float32), 0.5)
    with pytest.raises(SecretError, match="square"):
        choose_eps(distance[:5], 0.5)


@pytest.mark.parametrize("rho", [1.6e-3, 0.05, 0.9])
def test_does_not_depend_on_sample_order(distance, rho):
    """The mean is an exactly rounded sum of the chosen values, so permuting the samples (which
    permutes the matrix and the order partitions leave values in) gives the same bits."""
    perm = np.random.default_rng(1).permutation(distance.shape[0])
    moved = distance[perm][:, perm].tocsr()
    assert choose_eps(moved, rho) == choose_eps(distance, rho)
