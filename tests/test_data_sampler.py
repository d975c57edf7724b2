"""P x K sampling over (pseudo) labels."""

import numpy as np
import pytest

from secret_core.data import PKSampler
from secret_core.data.sampler import (
    capped_iterations,
    iterations_per_epoch,
    pretrain_iterations_per_epoch,
)
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


def test_draws_cap_shortens_only_epochs_that_would_repeat_their_images():
    """Hand-worked: 127 iterations of 32 over 19 kept images draw each 214 times; a cap of 20
    allows ceil(20 x 19 / 32) = ceil(11.9) = 12. A cap above the draws, or none (the
    authors'), leaves the count; an empty set is left to the caller's skip."""
    assert capped_iterations(127, 19, 32, 20) == 12
    assert capped_iterations(127, 1500, 32, 20) == 127  # 2.7 draws each: under the cap
    assert capped_iterations(127, 19, 32, None) == 127
    assert capped_iterations(40, 64, 32, 20) == 40  # exactly 20 draws each: not cut
    assert capped_iterations(40, 64, 32, 19.5) == 39  # 39 x 32 / 64 = 19.5
    assert capped_iterations(127, 1, 32, 1) == 1  # never below one iteration
    assert capped_iterations(127, 0, 32, 20) == 127
    for bad in (0, -5, "20", True):
        with pytest.raises(SecretError, match=r"adapt\.max_draws_per_image must be"):
            capped_iterations(127, 19, 32, bad)


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


def test_authors_passes_cut_each_shuffled_pass_and_drop_its_rest():
    """Hand-worked: 5 labels of 3 images, K = 2, batch 4. A pass gives 5 x 2 = 10 images:
    batches of 4 take 8, the last 2 are dropped, and the next pass starts afresh."""
    labels = np.repeat(np.arange(5), 3)
    sampler = PKSampler(labels, 2, 4, iterations=6, seed=4, batches="passes")
    assert sampler.pass_length == 10
    found = batches(sampler)
    for start in (0, 2, 4):  # each pass gives two batches: four of its five labels, K each
        one_pass = np.concatenate(found[start : start + 2])
        values, counts = np.unique(labels[one_pass], return_counts=True)
        assert len(values) == 4 and (counts == 2).all()
        # label after label, two images of each, in the pass's order
        assert all(labels[one_pass[i]] == labels[one_pass[i + 1]] for i in range(0, 8, 2))


def test_authors_passes_give_a_one_image_label_once_and_shift_the_grid():
    """Hand-worked: labels 0 (one image) and 1-3 (four images each), K = 4, batch 8. A pass
    is 1 + 3 x 4 = 13 images, one batch of 8 and a dropped rest of 5. Label 0's image
    appears once wherever it comes, and a label after it straddles the batch's end."""
    labels = np.array([0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
    sampler = PKSampler(labels, 4, 8, iterations=40, seed=0, batches="passes")
    assert sampler.pass_length == 13
    split = 0
    for batch in batches(sampler):
        assert np.sum(batch == 0) <= 1  # never repeated
        counts = np.bincount(labels[batch], minlength=4)[1:]
        split += int(np.any((counts > 0) & (counts < 4)))
        if np.sum(batch == 0) == 0:  # label 0 after the cut: the grid holds
            assert sorted(counts.tolist()) == [0, 4, 4]
    assert split > 0  # label 0 came first or second in some pass and shifted the grid
    # the former rule repeats it K times and keeps every batch on the grid
    grid = PKSampler(labels, 4, 8, iterations=40, seed=0)
    for batch in batches(grid):
        assert all(c in (0, 4) for c in np.bincount(labels[batch], minlength=4))


def test_authors_passes_too_short_for_a_batch_is_a_clear_error():
    with pytest.raises(SecretError, match="gives 6 images, fewer than one batch of 8"):
        PKSampler(np.repeat(np.arange(3), 2), 2, 8, 1, seed=0, batches="passes")
    with pytest.raises(SecretError, match="batches must be one of grid, passes"):
        PKSampler(np.zeros(4, dtype=int), 2, 4, 1, seed=0, batches="authors")


def test_grid_batches_are_the_former_stream():
    """``batches: grid`` draws what the sampler drew before the key existed, so finished
    runs stay valid: the indices below were printed by the sampler of commit a4fd7ee (five
    labels, one of a single image, three passes topped up, the authors' positives)."""
    labels = np.array([0] * 3 + [1] * 1 + [2] * 5 + [3] * 2 + [4] * 4)
    camids = np.arange(len(labels)) % 3
    drawn = PKSampler(labels, 2, 6, 4, seed=5, camids=camids, positives="other_cameras")
    before = [12, 13, 10, 9, 3, 3, 5, 6, 1, 0, 9, 10, 3, 3, 11, 12, 0, 2, 8, 7, 3, 3, 14, 12]
    assert list(drawn) == before
    assert list(PKSampler(labels, 2, 6, 4, 5, camids, "other_cameras", "grid")) == before
