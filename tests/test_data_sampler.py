"""P x K sampling over (pseudo) labels."""

import numpy as np
import pytest

from secret_core.data import PKSampler
from secret_core.data.sampler import iterations_per_epoch, pretrain_iterations_per_epoch
from secret_core.errors import SecretError


def batches(sampler: PKSampler) -> list[np.ndarray]:
    idx = np.array(list(sampler))
    assert len(idx) == len(sampler) == sampler.iterations * sampler.batch_size
    return np.split(idx, sampler.iterations)


def test_every_batch_has_p_distinct_labels_times_k_and_no_discarded():
    labels = np.array([0] * 6 + [1] * 5 + [2] * 2 + [-1] * 4 + [3] * 4 + [4] * 7 + [5] * 1)
    sampler = PKSampler(labels, num_instances=4, batch_size=12, iterations=30, seed=1)
    for batch in batches(sampler):
        assert (labels[batch] >= 0).all()
        values, counts = np.unique(labels[batch], return_counts=True)
        assert len(values) == 3 and (counts == 4).all()
        # the K instances of a label arrive together, label after label
        assert all(len(set(labels[batch[i : i + 4]])) == 1 for i in range(0, 12, 4))


def test_labels_are_visited_evenly():
    labels = np.repeat(np.arange(10), 6)
    sampler = PKSampler(labels, num_instances=2, batch_size=6, iterations=50, seed=3)
    visits = np.bincount(labels[np.array(list(sampler))], minlength=10) // 2
    assert visits.sum() == 150 and visits.min() >= 14 and visits.max() <= 16


def test_small_labels_use_every_member_then_replacement():
    labels = np.array([0, 0, 1, 1, 1, 1, 1])
    sampler = PKSampler(labels, num_instances=4, batch_size=8, iterations=10, seed=0)
    for batch in batches(sampler):
        members = batch[labels[batch] == 0]
        assert len(members) == 4 and set(members.tolist()) == {0, 1}
        assert len(set(batch[labels[batch] == 1].tolist())) == 4  # enough: no repeats


def test_fewer_labels_than_p_fills_with_what_there_is():
    labels = np.array([3] * 5 + [-1] * 3 + [9] * 4)
    sampler = PKSampler(labels, num_instances=2, batch_size=8, iterations=6, seed=2)
    for batch in batches(sampler):
        values, counts = np.unique(labels[batch], return_counts=True)
        assert values.tolist() == [3, 9] and (counts == 4).all()


def test_sampler_is_deterministic_and_seeded():
    labels = np.repeat(np.arange(10), 5)
    a = list(PKSampler(labels, 4, 16, 3, seed=7))
    np.random.seed(123)  # global state must not matter
    b = list(PKSampler(labels, 4, 16, 3, seed=7))
    c = list(PKSampler(labels, 4, 16, 3, seed=8))
    assert a == b and a != c
    sampler = PKSampler(labels, 4, 16, 3, seed=7)
    assert list(sampler) == list(sampler)  # each pass restarts from the seed


def test_spread_prefers_other_cameras_then_spreads_over_cameras():
    labels = np.zeros(8, dtype=int)
    camids = np.array([0, 0, 0, 0, 0, 1, 2, 3])
    sampler = PKSampler(labels, 4, 4, 40, seed=0, camids=camids, positives="spread")
    for batch in batches(sampler):
        assert len(set(camids[batch].tolist())) == 4
    # two cameras only: the anchor's camera is used once, the other fills the rest
    camids2 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    sampler2 = PKSampler(labels, 4, 4, 40, seed=1, camids=camids2, positives="spread")
    for batch in batches(sampler2):
        assert sorted(np.bincount(camids2[batch], minlength=2).tolist()) == [1, 3]


def test_authors_rule_draws_positives_only_from_the_anchors_other_cameras():
    """One label, cameras 0 0 0 0 0 1 2 3: an anchor in camera 0 gets three of the images 5-7;
    an anchor in camera 1 gets three of the six images outside camera 1 (no repeats: 6 >= K)."""
    labels = np.zeros(8, dtype=int)
    camids = np.array([0, 0, 0, 0, 0, 1, 2, 3])
    anchors_seen = set()
    for batch in batches(
        PKSampler(labels, 4, 4, 200, seed=0, camids=camids, positives="other_cameras")
    ):
        anchor, rest = batch[0], batch[1:]
        anchors_seen.add(int(anchor))
        assert not np.any(camids[rest] == camids[anchor])
        if camids[anchor] != 0:
            assert len(set(rest.tolist())) == 3
    assert anchors_seen == set(range(8))


def test_authors_rule_repeats_below_k_candidates_and_falls_back_to_one_camera():
    # anchor 0 (camera 0) has three candidates in camera 1: fewer than K = 4, so the authors
    # draw with replacement and repeats occur; label 1 lives in one camera: its own members
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1])
    camids = np.array([0, 1, 1, 1, 2, 2, 2, 2, 2])
    repeats = 0
    for batch in batches(
        PKSampler(labels, 4, 8, 100, seed=3, camids=camids, positives="other_cameras")
    ):
        for block in np.split(batch, 2):
            anchor, rest = block[0], block[1:]
            if labels[anchor] == 1:
                assert anchor not in rest and set(rest.tolist()) <= {4, 5, 6, 7, 8}
            elif anchor == 0:
                assert set(rest.tolist()) <= {1, 2, 3}
                repeats += len(set(rest.tolist())) < 3
            else:
                assert set(rest.tolist()) == {0}  # the only image outside camera 1
    assert repeats > 0


def test_a_label_of_one_image_repeats_it():
    labels = np.array([0, 1, 1, 1, 1])
    camids = np.array([0, 0, 1, 2, 3])
    for positives in ("other_cameras", "spread"):
        sampler = PKSampler(labels, 4, 8, 10, seed=0, camids=camids, positives=positives)
        for batch in batches(sampler):
            blocks = np.split(batch, 2)
            assert any(block.tolist() == [0, 0, 0, 0] for block in blocks)


def test_unknown_positives_rule_is_a_clear_error():
    with pytest.raises(SecretError, match="positives must be one of other_cameras, spread"):
        PKSampler(np.zeros(4, dtype=int), 2, 4, 1, seed=0, positives="nearest")


def test_without_camids_instances_are_distinct_members():
    labels = np.repeat(np.arange(4), 6)
    for batch in batches(PKSampler(labels, 4, 8, 20, seed=5)):
        assert len(set(batch.tolist())) == 8


def test_no_label_is_a_clear_error():
    with pytest.raises(SecretError, match="no sample has a label"):
        PKSampler(np.full(5, -1), 4, 8, 1, seed=0)


def test_bad_sizes_are_clear_errors():
    labels = np.zeros(4, dtype=int)
    with pytest.raises(SecretError, match="batch_size 10 must be a positive multiple"):
        PKSampler(labels, 4, 10, 1, seed=0)
    with pytest.raises(SecretError, match="camids has 3 entries but labels has 4"):
        PKSampler(labels, 2, 4, 1, seed=0, camids=np.zeros(3))


def test_auto_iterations_draw_two_samples_per_target_image():
    """The authors' 400 x 64 = 25,600 samples for Market's 12,936 images: about two per image."""
    assert iterations_per_epoch("auto", 700, 32) == 44  # ceil(1400 / 32)
    assert iterations_per_epoch("auto", 12936, 64) == 405  # the authors' 400, rounded up
    assert iterations_per_epoch("auto", 3, 64) == 1
    assert iterations_per_epoch(40, 700, 32) == 40
    for bad in (0, -3, "many", 2.5, True):
        with pytest.raises(SecretError, match=r"adapt\.iterations must be"):
            iterations_per_epoch(bad, 700, 32)


def test_samples_per_image_scales_the_target_budget():
    """ceil(S N / batch): 4 per image is twice auto's budget, rounded once, not doubled."""
    assert iterations_per_epoch({"samples_per_image": 4}, 696, 32) == 87  # 87.0
    assert iterations_per_epoch({"samples_per_image": 4}, 660, 32) == 83  # 82.5 up
    assert iterations_per_epoch({"samples_per_image": 2}, 700, 32) == iterations_per_epoch(
        "auto", 700, 32
    )
    assert iterations_per_epoch({"samples_per_image": 4}, 2030, 32) == 254  # a real target
    assert iterations_per_epoch({"samples_per_image": 0.01}, 5, 32) == 1
    for bad in ({"samples_per_image": 0}, {"samples_per_image": "4"}, {"passes": 4}, {}):
        with pytest.raises(SecretError, match=r"samples_per_image: S"):
            iterations_per_epoch(bad, 700, 32)


def test_pretrain_budget_in_passes_scales_with_the_source():
    # auto: the authors' 80 x 100 x 64 samples over Market's 12,936 images, 39.6 passes.
    assert pretrain_iterations_per_epoch("auto", 12936, 64, 80) == 100
    assert pretrain_iterations_per_epoch("auto", 16522, 64, 80) == 128  # Duke: 127.7 up
    # The demo's 27.5 passes: 29.9 -> 30 per epoch on synth_market's 696 images.
    assert pretrain_iterations_per_epoch({"passes": 27.5}, 696, 32, 20) == 30
    assert pretrain_iterations_per_epoch({"passes": 27.5}, 6000, 32, 20) == 258
    # An exact quotient is not rounded up by float error: 3 x 640 / (6 x 32) = 10.
    assert pretrain_iterations_per_epoch({"passes": 3}, 640, 32, 6) == 10
    assert pretrain_iterations_per_epoch({"passes": 0.01}, 10, 32, 20) == 1
    assert pretrain_iterations_per_epoch(30, 6000, 32, 20) == 30  # a count stays a count


@pytest.mark.parametrize("bad", [0, True, "many", {"passes": 0}, {"passes": "x"}, {"epochs": 3}])
def test_pretrain_budget_rejects_what_is_not_a_count_or_passes(bad):
    with pytest.raises(SecretError, match=r"pretrain\.iterations must be"):
        pretrain_iterations_per_epoch(bad, 696, 32, 20)
