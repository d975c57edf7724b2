"""Losses against hand-worked values, -1 masking, and the combined per-branch loss."""

import math

import pytest
import torch

from secret_core.errors import SecretError
from secret_core.losses import (
    CrossEntropyLabelSmooth,
    LossConfig,
    SoftEntropy,
    SoftTripletLoss,
    TripletLoss,
    compute_losses,
)

POINTS = torch.tensor([[0.0], [1.0], [3.0], [6.0]])  # class 0 at 0 and 1, class 1 at 3 and 6
CLASSES = torch.tensor([0, 0, 1, 1])
PAIRS = ((1, 3), (1, 2), (3, 2), (3, 5))  # (d_ap, d_an) of each anchor, worked by hand


def test_label_smoothing_value():
    loss = CrossEntropyLabelSmooth(0.1)(torch.zeros(1, 2), torch.tensor([0]))
    assert math.isclose(float(loss), math.log(2), rel_tol=1e-6)  # uniform p: -log 0.5
    # logits (log 3, 0): p = (0.75, 0.25); smoothed target (0.95, 0.05)
    logits = torch.tensor([[math.log(3.0), 0.0]])
    expected = -(0.95 * math.log(0.75) + 0.05 * math.log(0.25))
    value = CrossEntropyLabelSmooth(0.1)(logits, torch.tensor([0]))
    assert math.isclose(value.item(), expected, rel_tol=1e-6)


def test_ce_ignores_minus_one_and_all_ignored_backprops():
    logits = torch.tensor([[math.log(3.0), 0.0], [5.0, -5.0]], requires_grad=True)
    ce = CrossEntropyLabelSmooth(0.0)
    assert math.isclose(ce(logits, torch.tensor([0, -1])).item(), -math.log(0.75), rel_tol=1e-6)
    zero = ce(logits, torch.tensor([-1, -1]))
    zero.backward()
    assert zero.item() == 0.0 and logits.grad is not None and float(logits.grad.abs().sum()) == 0


def test_batch_hard_triplet_by_hand():
    hinge = sum(max(0.0, ap - an + 0.5) for ap, an in PAIRS) / 4
    assert math.isclose(float(TripletLoss(0.5)(POINTS, CLASSES)), hinge, rel_tol=1e-4)
    soft = sum(math.log1p(math.exp(ap - an)) for ap, an in PAIRS) / 4
    assert math.isclose(float(TripletLoss(None)(POINTS, CLASSES)), soft, rel_tol=1e-4)
    assert math.isclose(float(TripletLoss(0.0)(POINTS, CLASSES)), soft, rel_tol=1e-4)


def test_triplet_masks_minus_one():
    # dropping the point at 6 leaves anchor 2 without a positive: only anchors 0, 1 count
    expected = (max(0.0, 1 - 3 + 1.5) + max(0.0, 1 - 2 + 1.5)) / 2
    masked = TripletLoss(1.5)(POINTS, torch.tensor([0, 0, 1, -1]))
    assert math.isclose(float(masked), expected, rel_tol=1e-4)  # (0 + 0.5) / 2
    x = POINTS.clone().requires_grad_(True)
    zero = TripletLoss(0.3)(x, torch.tensor([-1, -1, -1, 0]))
    zero.backward()
    assert zero.item() == 0.0 and x.grad is not None


def test_soft_entropy_equals_teacher_entropy_when_equal():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    p = torch.softmax(logits[:1], 1)
    value = SoftEntropy()(logits, logits, torch.tensor([True, False]))
    assert math.isclose(value.item(), float(-(p * p.log()).sum()), rel_tol=1e-6)


def test_soft_triplet_by_hand_and_teacher_detached():
    teacher = POINTS * 2.0  # teacher distances double: (2 d_ap, 2 d_an) at the same pairs
    expected = 0.0
    for ap, an in PAIRS:
        q = torch.softmax(torch.tensor([2.0 * ap, 2.0 * an]), 0)
        log_p = torch.log_softmax(torch.tensor([float(ap), float(an)]), 0)
        expected += float(-(q * log_p).sum()) / 4
    ref = teacher.clone().requires_grad_(True)
    value = SoftTripletLoss()(POINTS.clone().requires_grad_(True), ref, CLASSES)
    assert math.isclose(value.item(), expected, rel_tol=1e-4)
    value.backward()
    assert ref.grad is None


def _outputs(seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        b: {
            "feat": torch.randn(4, 3, generator=g).requires_grad_(True),
            "logits": torch.randn(4, 2, generator=g).requires_grad_(True),
        }
        for b in ("global", "top", "bottom")
    }


def test_compute_losses_uses_only_listed_branches_and_columns():
    out = _outputs()
    labels = torch.tensor([[0, -1, 1], [0, -1, 1], [1, -1, 0], [1, -1, 0]])
    total, parts = compute_losses(out, None, labels, ["global"], LossConfig())
    assert set(parts) == {"global_ce", "global_triplet", "total"}
    total.backward()
    assert out["top"]["feat"].grad is None and out["global"]["feat"].grad is not None
    expected = CrossEntropyLabelSmooth(0.1)(out["bottom"]["logits"], labels[:, 2]) + TripletLoss(
        0.3
    )(out["bottom"]["feat"], labels[:, 2])
    _, parts = compute_losses(out, None, labels, ["bottom"], LossConfig())
    assert math.isclose(parts["total"], expected.item(), rel_tol=1e-6)


def test_mean_teacher_config_and_soft_terms():
    mt = LossConfig.mean_teacher()
    assert (mt.ce, mt.soft_ce, mt.triplet, mt.soft_triplet, mt.margin) == (0.5, 0.5, 0.2, 0.8, None)
    out, ref = _outputs(0), _outputs(1)
    labels = torch.tensor([[0, 0, 0], [0, 0, 0], [1, 1, 1], [1, 1, 1]])
    total, parts = compute_losses(out, ref, labels, ["global", "top", "bottom"], mt)
    assert len(parts) == 13  # 4 terms x 3 branches + total
    assert math.isclose(
        sum(v for k, v in parts.items() if k != "total"), total.item(), rel_tol=1e-5
    )
    total.backward()
    assert ref["global"]["logits"].grad is None


def test_all_ignored_batch_gives_zero_that_backprops():
    out = _outputs()
    labels = torch.full((4, 3), -1)
    total, parts = compute_losses(out, out, labels, ["global", "top"], LossConfig.mean_teacher())
    total.backward()
    assert parts["total"] == 0.0 and out["global"]["feat"].grad is not None
    nothing, _ = compute_losses(out, None, labels, [], LossConfig())
    assert nothing.item() == 0.0 and nothing.requires_grad
    with pytest.raises(SecretError, match="middle"):
        compute_losses(out, None, labels, ["middle"], LossConfig())
