"""Each variant's label flow on tiny inputs (which branches train on which labels)."""

from pathlib import Path

import numpy as np
import pytest

from secret_core.errors import SecretError
from secret_core.pipeline.pseudo_labels import branch_labels, space_features
from secret_core.refinement import reindex
from secret_core.refinement.training_set import epoch_labels
from secret_core.workflow.variants import load_variants, resolve_variant

VARIANTS = load_variants(Path(__file__).resolve().parents[1] / "config" / "variants.yaml", {})

# Seven samples a..g in one global cluster (paper Figure 4) plus a second cluster h..k.
GLOBAL = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
TOP = np.array([5, 1, 1, 1, 6, 1, 1, 2, 2, 2, 2])
BOTTOM = np.array([3, 3, 3, 3, 7, 3, 3, 4, 4, 4, 4])
GT = np.array([10, 10, 10, 10, 11, 10, 10, 12, 12, 12, 12])
CLUSTERED = {
    "global": GLOBAL,
    "top": TOP,
    "bottom": BOTTOM,
    "concat": np.array([0, 0, 0, 0, -1, 0, 0, 1, 1, 1, 1]),
}


def labels_for(name: str) -> dict[str, np.ndarray]:
    return branch_labels(CLUSTERED, resolve_variant(VARIANTS, name), 0.4, "clustered", GT)


def test_baseline_never_touches_local_branches():
    out = labels_for("baseline")
    assert np.array_equal(out["global"], GLOBAL)
    assert (out["top"] == -1).all() and (out["bottom"] == -1).all()


def test_naive_secret_gives_every_branch_the_same_labels():
    out = labels_for("naive_secret")
    assert np.array_equal(out["global"], out["top"])
    assert np.array_equal(out["top"], out["bottom"])


def test_secret_mr_uses_each_branch_own_labels():
    out = labels_for("secret_mr")
    for branch in ("global", "top", "bottom"):
        assert np.array_equal(out[branch], CLUSTERED[branch])


def test_secret_refines_figure4_cluster():
    out = labels_for("secret")
    kept_global = np.flatnonzero(out["global"][:7] >= 0)
    # a (top minority) and e (top and bottom minority) are dropped: b, c, d, f, g remain.
    assert kept_global.tolist() == [1, 2, 3, 5, 6]


def test_secret_t_leaves_top_labels_unrefined():
    out = labels_for("secret_t")
    assert np.array_equal(out["top"], reindex(TOP))
    # without the top space, only e (bottom minority) leaves the global cluster.
    assert np.flatnonzero(out["global"][:7] < 0).tolist() == [4]


def test_secret_b_leaves_bottom_labels_unrefined():
    out = labels_for("secret_b")
    assert np.array_equal(out["bottom"], reindex(BOTTOM))


def test_sup_trains_on_ground_truth():
    out = labels_for("sup")
    assert np.array_equal(out["global"], [0, 0, 0, 0, 1, 0, 0, 2, 2, 2, 2])


def test_training_set_is_the_intersection_of_used_branches():
    refined = {
        "global": np.array([0, 0, -1, 1, 1]),
        "top": np.array([2, -1, 2, 3, 3]),
        "bottom": np.array([-1, -1, -1, -1, -1]),
    }
    labels, classes = epoch_labels(refined, ["global", "top"])
    assert labels[:, 0].tolist() == [0, -1, -1, 1, 1]
    assert labels[:, 1].tolist() == [0, -1, -1, 1, 1]
    assert (labels[:, 2] == -1).all()
    assert np.array_equal(classes, labels)  # the former rule: classes are what trains


def test_authors_classes_come_from_each_branch_before_the_intersection():
    """By hand: global keeps samples 0, 1, 3, 4, 5 in clusters 7, 7, 8, 8, 9; top keeps 0, 2,
    3, 4 (5 has no top label). The intersection trains 0, 3, 4. With ``branch`` each branch
    numbers its own labelled samples: global has 3 classes (7 -> 0, 8 -> 1, 9 -> 2), class 2
    with no trained sample; top has 3 (2 -> 0, 3 -> 1, 5 -> 2). Trained samples keep those
    numbers; ``trained`` renumbers the intersection alone (2 classes each)."""
    refined = {
        "global": np.array([7, 7, -1, 8, 8, 9]),
        "top": np.array([2, -1, 5, 3, 3, -1]),
        "bottom": np.full(6, -1),
    }
    labels, classes = epoch_labels(refined, ["global", "top"], "branch")
    assert classes[:, 0].tolist() == [0, 0, -1, 1, 1, 2]
    assert classes[:, 1].tolist() == [0, -1, 2, 1, 1, -1]
    assert labels[:, 0].tolist() == [0, -1, -1, 1, 1, -1]
    assert labels[:, 1].tolist() == [0, -1, -1, 1, 1, -1]
    assert (labels[:, 2] == -1).all() and (classes[:, 2] == -1).all()
    former, former_classes = epoch_labels(refined, ["global", "top"], "trained")
    assert np.array_equal(former, labels) and np.array_equal(former_classes, former)
    assert former_classes[:, 0].max() == 1 and classes[:, 0].max() == 2


def test_unknown_classes_rule_names_the_key():
    with pytest.raises(SecretError, match=r"adapt\.classes"):
        epoch_labels({"global": np.zeros(3, dtype=np.int64)}, ["global"], "all")


def test_concat_space_is_normalised():
    rng = np.random.default_rng(0)
    feats = {b: rng.normal(size=(6, 4)).astype(np.float32) for b in ("global", "top", "bottom")}
    joined = space_features(feats, "concat")
    assert joined.shape == (6, 12)
    assert np.allclose(np.linalg.norm(joined, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(space_features(feats, "top"), feats["top"])


@pytest.mark.parametrize("name", ["secret", "secret_t", "secret_b"])
def test_refinement_never_adds_labels(name):
    out = labels_for(name)
    for branch in ("global", "top", "bottom"):
        assert ((out[branch] >= 0) <= (CLUSTERED[branch] >= 0)).all()
