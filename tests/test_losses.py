"""Losses against hand-worked values, with -1 masking."""

import math

import torch

from secret_core.losses import (
    CrossEntropyLabelSmooth,
    LossConfig,
    SoftEntropy,
    SoftTripletLoss,
    TripletLoss,
    compute_losses,
)


def test_label_smoothing_value():
    # logits (0, 0): log p = log 0.5 for both classes; any smoothing gives -log 0.5
    loss = CrossEntropyLabelSmooth(0.1)(torch.zeros(1, 2), torch.tensor([0]))
    assert math.isclose(float(loss), math.log(2), rel_tol=1e-6)
    # logits (log 3, 0): p = (0.75, 0.25); target weights (0.95, 0.05)
    logits = torch.tensor([[math.log(3.0), 0.0]])
    expected = -(0.95 * math.log(0.75) + 0.05 * math.log(0.25))
    assert math.isclose(
        float(CrossEntropyLabelSmooth(0.1)(logits, torch.tensor([0]))), expected, rel_tol=1e-6
    )


def test_ignored_targets_and_all_ignored_batch():
    logits = torch.tensor([[math.log(3.0), 0.0], [5.0, -5.0]], requires_grad=True)
    ce = CrossEntropyLabelSmooth(0.0)
    assert math.isclose(float(ce(logits, torch.tensor([0, -1]))), -math.log(0.75), rel_tol=1e-6)
    zero = ce(logits, torch.tensor([-1, -1]))
    zero.backward()
    assert float(zero) == 0.0 and logits.grad is not None


def test_batch_hard_triplet_by_hand():
    # 1-D points: class 0 at 0 and 1, class 1 at 3 and 6
    x = torch.tensor([[0.0], [1.0], [3.0], [6.0]])
    y = torch.tensor([0, 0, 1, 1])
    # anchors: d_ap = 1, 1, 3, 3; d_an = 3, 2, 2, 5
    hinge = [max(0.0, ap - an + 0.5) for ap, an in ((1, 3), (1, 2), (3, 2), (3, 5))]
    assert math.isclose(float(TripletLoss(0.5)(x, y)), sum(hinge) / 4, rel_tol=1e-4)
    soft = [math.log1p(math.exp(ap - an)) for ap, an in ((1, 3), (1, 2), (3, 2), (3, 5))]
    assert math.isclose(float(TripletLoss(None)(x, y)), sum(soft) / 4, rel_tol=1e-4)
    # a -1 sample is ignored: dropping the point at 6 leaves anchor 2 without a positive
    masked = TripletLoss(0.5)(x, torch.tensor([0, 0, 1, -1]))
    assert math.isclose(
        float(masked), (max(0, 1 - 3 + 0.5) + max(0, 1 - 2 + 0.5)) / 2, rel_tol=1e-4
    )


def test_soft_losses_match_themselves_at_minimum():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    same = SoftEntropy()(logits, logits)
    p = torch.softmax(logits, 1)
    assert math.isclose(float(same), float(-(p * p.log()).sum()), rel_tol=1e-6)
    x = torch.tensor([[0.0], [1.0], [3.0], [6.0]])
    y = torch.tensor([0, 0, 1, 1])
    # equal to the entropy of the teacher's (d_ap, d_an) softmax when student == teacher
    assert float(SoftTripletLoss()(x, x, y)) > 0
    assert float(SoftTripletLoss()(x, x, y)) <= float(SoftTripletLoss()(x, x.flip(0), y))


def test_compute_losses_uses_only_listed_branches():
    torch.manual_seed(0)
    out = {
        b: {
            "feat": torch.randn(4, 3, requires_grad=True),
            "logits": torch.randn(4, 2, requires_grad=True),
        }
        for b in ("global", "top", "bottom")
    }
    labels = torch.tensor([[0, -1, -1], [0, -1, -1], [1, -1, -1], [1, -1, -1]])
    total, parts = compute_losses(out, None, labels, ["global"], LossConfig())
    assert set(parts) == {"global_ce", "global_triplet", "total"}
    total.backward()
    assert out["top"]["feat"].grad is None
    mt = LossConfig.mean_teacher()
    assert (mt.ce, mt.soft_ce, mt.triplet, mt.soft_triplet, mt.margin) == (0.5, 0.5, 0.2, 0.8, None)
    total, parts = compute_losses(out, out, labels, ["global"], mt)
    assert "global_soft_triplet" in parts and "global_soft_ce" in parts
