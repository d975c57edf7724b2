"""P x K sampling over pseudo labels and the training loader."""

import numpy as np
import pytest
import torch

from secret_core.data import PKSampler, build_eval_loader, build_train_loader, read_dataset
from secret_core.errors import SecretError


def batches(sampler: PKSampler) -> list[np.ndarray]:
    idx = np.array(list(sampler))
    return np.split(idx, len(idx) // sampler.batch_size)


def test_every_batch_has_p_labels_times_k_and_no_discarded():
    labels = np.array([0] * 6 + [1] * 5 + [2] * 2 + [-1] * 4 + [3] * 4 + [4] * 7)
    sampler = PKSampler(labels, num_instances=4, batch_size=12, iterations=5, seed=1)
    for batch in batches(sampler):
        assert (labels[batch] >= 0).all()
        values, counts = np.unique(labels[batch], return_counts=True)
        assert len(values) == 3 and (counts == 4).all()


def test_sampler_is_deterministic():
    labels = np.repeat(np.arange(10), 5)
    a = list(PKSampler(labels, 4, 16, 3, seed=7))
    b = list(PKSampler(labels, 4, 16, 3, seed=7))
    c = list(PKSampler(labels, 4, 16, 3, seed=8))
    assert a == b and a != c


def test_prefers_different_cameras():
    labels = np.zeros(8, dtype=int)
    camids = np.array([0, 0, 0, 0, 0, 1, 2, 3])
    sampler = PKSampler(labels, 4, 4, 20, seed=0, camids=camids)
    for batch in batches(sampler):
        assert len(set(camids[batch])) == 4


def test_no_label_is_a_clear_error():
    with pytest.raises(SecretError, match="no sample has a label"):
        PKSampler(np.full(5, -1), 4, 8, 1, seed=0)


def test_train_loader_batches_and_reproducibility(tiny_domain):
    ds = read_dataset(tiny_domain)
    pids = np.array([r.pid for r in ds.train])
    labels = np.stack([pids, pids, np.full_like(pids, -1)], axis=1)

    def first_batch():
        torch.manual_seed(0)  # transforms draw from torch's RNG, seeded per stage
        loader = build_train_loader(
            ds.train,
            labels,
            pids,
            height=32,
            width=16,
            batch_size=8,
            num_instances=4,
            iterations=2,
            seed=3,
            random_erasing=0.5,
        )
        return next(iter(loader))

    a, b = first_batch(), first_batch()
    assert a["images"].shape == (8, 3, 32, 16)
    assert a["labels"].shape == (8, 3) and (a["labels"][:, 2] == -1).all()
    assert torch.equal(a["images"], b["images"])


def test_eval_loader_keeps_order(tiny_domain):
    ds = read_dataset(tiny_domain)
    loader = build_eval_loader(ds.query, height=32, width=16, batch_size=4)
    order = torch.cat([b["index"] for b in loader]).tolist()
    assert order == list(range(len(ds.query)))
