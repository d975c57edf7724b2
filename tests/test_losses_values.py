"""Losses against hand-worked values, -1 masking, the combined per-branch loss and the loss
settings read from the config (explicit triplet kind, mean-teacher weights)."""

import math

import pytest
import torch

from secret_core.errors import SecretError
from secret_core.losses import (
    LossConfig,
    batch_hard_triplet,
    branch_output,
    compute_losses,
    cross_entropy_smooth,
    soft_cross_entropy,
    soft_triplet,
)

POINTS = torch.tensor([[0.0], [1.0], [3.0], [6.0]])  # class 0 at 0 and 1, class 1 at 3 and 6
CLASSES = torch.tensor([0, 0, 1, 1])
PAIRS = ((1, 3), (1, 2), (3, 2), (3, 5))  # (d_ap, d_an) of each anchor, worked by hand


def test_label_smoothing_value():
    loss = cross_entropy_smooth(torch.zeros(1, 2), torch.tensor([0]))
    assert math.isclose(float(loss), math.log(2), rel_tol=1e-6)  # uniform p: -log 0.5
    # logits (log 3, 0): p = (0.75, 0.25); smoothed target (0.95, 0.05)
    logits = torch.tensor([[math.log(3.0), 0.0]])
    expected = -(0.95 * math.log(0.75) + 0.05 * math.log(0.25))
    value = cross_entropy_smooth(logits, torch.tensor([0]))
    assert math.isclose(value.item(), expected, rel_tol=1e-6)


def test_ce_ignores_minus_one_and_all_ignored_backprops():
    logits = torch.tensor([[math.log(3.0), 0.0], [5.0, -5.0]], requires_grad=True)
    value = cross_entropy_smooth(logits, torch.tensor([0, -1]), 0.0)
    assert math.isclose(value.item(), -math.log(0.75), rel_tol=1e-6)
    zero = cross_entropy_smooth(logits, torch.tensor([-1, -1]), 0.0)
    zero.backward()
    assert zero.item() == 0.0 and logits.grad is not None and float(logits.grad.abs().sum()) == 0


def test_batch_hard_triplet_by_hand():
    # d_ap - d_an per anchor: -2, -1, 1, -2 (PAIRS)
    hinge = (0.0 + 0.0 + 1.5 + 0.0) / 4  # max(0, gap + 0.5)
    value = batch_hard_triplet(POINTS, CLASSES, "hinge", 0.5)
    assert math.isclose(float(value), hinge, rel_tol=1e-4)
    soft = 0.4700948  # mean of log(1 + e^gap), worked out by hand
    value = batch_hard_triplet(POINTS, CLASSES, "soft_margin")
    assert math.isclose(float(value), soft, rel_tol=1e-5)
    assert math.isclose(float(batch_hard_triplet(POINTS, CLASSES)), soft, rel_tol=1e-5)


def test_lone_anchor_is_its_own_positive_as_the_authors():
    """Points 0, 1 (class 0), 3, 6 (class 1) and 10 (class 2): the anchor at 10 has no
    positive. ``drop`` averages the other four anchors, whose (d_ap, d_an) are (1, 3), (1, 2),
    (3, 2) and (3, 4) by hand; ``self`` (the authors') adds the lone one with d_ap =
    sqrt(1e-12) (its clamped distance to itself) and d_an = 4, over five anchors."""
    points = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])
    classes = torch.tensor([0, 0, 1, 1, 2])
    kept = [math.log1p(math.exp(ap - an)) for ap, an in ((1, 3), (1, 2), (3, 2), (3, 4))]
    lone = math.log1p(math.exp(1e-6 - 4.0))
    dropped = batch_hard_triplet(points, classes, "soft_margin", None, "drop")
    assert math.isclose(float(dropped), sum(kept) / 4, rel_tol=1e-5)
    authors = batch_hard_triplet(points, classes, "soft_margin", None, "self")
    assert math.isclose(float(authors), (sum(kept) + lone) / 5, rel_tol=1e-5)
    # the soft triplet with the teacher equal to the student: the lone anchor adds the
    # entropy of softmax(d_ap, d_an) at (1e-6, 4) to the mean
    soft_self = soft_triplet(points, points, classes, "self")
    soft_drop = soft_triplet(points, points, classes, "drop")
    p = torch.softmax(torch.tensor([1e-6, 4.0]), 0)
    entropy = float(-(p * p.log()).sum())
    assert math.isclose(float(soft_self), (4 * float(soft_drop) + entropy) / 5, rel_tol=1e-4)
    cfg = LossConfig.from_config({"triplet": {"lone_anchors": "self"}}, "adapt.loss")
    assert cfg.lone_anchors == "self"
    assert LossConfig.from_config({}, "adapt.loss").lone_anchors == "drop"
    with pytest.raises(SecretError, match=r"adapt\.loss\.triplet\.lone_anchors"):
        LossConfig.from_config({"triplet": {"lone_anchors": "keep"}}, "adapt.loss")


def test_hinge_and_soft_margin_differ_and_margin_is_explicit():
    # far apart classes: the hinge is satisfied (0), the soft margin still pulls (> 0)
    far = torch.tensor([[0.0], [0.1], [10.0], [10.1]])
    assert float(batch_hard_triplet(far, CLASSES, "hinge", 0.3)) == 0.0
    # gaps d_ap - d_an: -9.9, -9.8, -9.8, -9.9
    expected = (math.log1p(math.exp(-9.9)) + math.log1p(math.exp(-9.8))) / 2
    value = float(batch_hard_triplet(far, CLASSES, "soft_margin"))
    assert value > 0 and math.isclose(value, expected, rel_tol=1e-3)
    with pytest.raises(SecretError, match="soft_margin has no margin"):
        batch_hard_triplet(POINTS, CLASSES, "soft_margin", 0.0)  # the old trap: margin 0
    with pytest.raises(SecretError, match="hinge needs a margin"):
        batch_hard_triplet(POINTS, CLASSES, "hinge")
    with pytest.raises(SecretError, match="not one of"):
        batch_hard_triplet(POINTS, CLASSES, "contrastive")


def test_triplet_masks_minus_one():
    # dropping the point at 6 leaves anchor 2 without a positive: only anchors 0, 1 count
    expected = (max(0.0, 1 - 3 + 1.5) + max(0.0, 1 - 2 + 1.5)) / 2
    masked = batch_hard_triplet(POINTS, torch.tensor([0, 0, 1, -1]), "hinge", 1.5)
    assert math.isclose(float(masked), expected, rel_tol=1e-4)  # (0 + 0.5) / 2
    x = POINTS.clone().requires_grad_(True)
    zero = batch_hard_triplet(x, torch.tensor([-1, -1, -1, 0]))
    zero.backward()
    assert zero.item() == 0.0 and x.grad is not None


def test_soft_entropy_equals_teacher_entropy_when_equal():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    p = torch.softmax(logits[:1], 1)
    value = soft_cross_entropy(logits, logits, torch.tensor([True, False]))
    assert math.isclose(value.item(), float(-(p * p.log()).sum()), rel_tol=1e-6)


def test_soft_triplet_by_hand_and_teacher_detached():
    teacher = POINTS * 2.0  # teacher distances double: (2 d_ap, 2 d_an) at the same pairs
    expected = 0.0
    for ap, an in PAIRS:
        q = torch.softmax(torch.tensor([2.0 * ap, 2.0 * an]), 0)
        log_p = torch.log_softmax(torch.tensor([float(ap), float(an)]), 0)
        expected += float(-(q * log_p).sum()) / 4
    ref = teacher.clone().requires_grad_(True)
    value = soft_triplet(POINTS.clone().requires_grad_(True), ref, CLASSES)
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
    expected = cross_entropy_smooth(out["bottom"]["logits"], labels[:, 2]) + batch_hard_triplet(
        out["bottom"]["feat"], labels[:, 2], "soft_margin"
    )
    _, parts = compute_losses(out, None, labels, ["bottom"], LossConfig())
    assert math.isclose(parts["total"], expected.item(), rel_tol=1e-6)
    hinge = LossConfig(ce=2.0, triplet=0.5, triplet_kind="hinge", margin=0.3, label_smoothing=0)
    _, parts = compute_losses(out, None, labels, ["bottom"], hinge)
    expected = 2.0 * cross_entropy_smooth(
        out["bottom"]["logits"], labels[:, 2], 0.0
    ) + 0.5 * batch_hard_triplet(out["bottom"]["feat"], labels[:, 2], "hinge", 0.3)
    assert math.isclose(parts["total"], expected.item(), rel_tol=1e-6)


def test_mean_teacher_config_and_soft_terms():
    mt = LossConfig.mean_teacher()
    assert (mt.ce, mt.soft_ce, mt.triplet, mt.soft_triplet) == (0.5, 0.5, 0.2, 0.8)
    assert (mt.triplet_kind, mt.margin) == ("soft_margin", None)
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


def test_loss_config_from_config_sections():
    section = {"ce": 1.0, "label_smoothing": 0.1, "triplet": {"kind": "soft_margin", "weight": 1.0}}
    assert LossConfig.from_config(section, "pretrain.loss") == LossConfig(key="pretrain.loss")
    hinge = LossConfig.from_config(
        {"triplet": {"kind": "hinge", "margin": 0.3, "weight": 2.0}, "label_smoothing": 0.0},
        "pretrain.loss",
    )
    assert (hinge.triplet_kind, hinge.margin, hinge.triplet, hinge.label_smoothing) == (
        "hinge",
        0.3,
        2.0,
        0.0,
    )
    # the mean-teacher weights replace ce / triplet.weight only when a teacher is used
    adapt = {
        **section,
        "mean_teacher": {"ce": 0.1, "soft_ce": 0.2, "triplet": 0.3, "soft_triplet": 0.4},
    }
    plain = LossConfig.from_config(adapt, "adapt.loss")
    assert (plain.ce, plain.triplet, plain.soft_ce, plain.soft_triplet) == (1.0, 1.0, 0.0, 0.0)
    mt = LossConfig.from_config(adapt, "adapt.loss", mean_teacher=True)
    assert (mt.ce, mt.soft_ce, mt.triplet, mt.soft_triplet) == (0.1, 0.2, 0.3, 0.4)
    authors = LossConfig.from_config(section, "adapt.loss", mean_teacher=True)
    assert (authors.ce, authors.soft_ce, authors.triplet, authors.soft_triplet) == (
        0.5,
        0.5,
        0.2,
        0.8,
    )


def test_mean_teacher_weights_reach_the_total():
    out, ref = _outputs(0), _outputs(1)
    labels = torch.tensor([[0, 0, 0], [0, 0, 0], [1, 1, 1], [1, 1, 1]])
    weights = {"ce": 0.1, "soft_ce": 0.2, "triplet": 0.3, "soft_triplet": 0.4}
    cfg = LossConfig.from_config({"mean_teacher": weights}, "adapt.loss", mean_teacher=True)
    total, _ = compute_losses(out, ref, labels, ["global"], cfg)
    s, t, y = out["global"], ref["global"], labels[:, 0]
    expected = (
        0.1 * cross_entropy_smooth(s["logits"], y, 0.1)
        + 0.2 * soft_cross_entropy(s["logits"], t["logits"], y >= 0)
        + 0.3 * batch_hard_triplet(s["feat"], y, "soft_margin")
        + 0.4 * soft_triplet(s["feat"], t["feat"], y)
    )
    assert math.isclose(total.item(), expected.item(), rel_tol=1e-6)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"triplet": {"kind": "soft_margin", "margin": 0.3}}, "pretrain.loss.triplet.margin"),
        ({"triplet": {"kind": "hinge"}}, "pretrain.loss.triplet.margin"),
        ({"triplet": {"kind": "hinge", "margin": 0}}, "pretrain.loss.triplet.margin"),
        ({"triplet": {"kind": "cosine"}}, "pretrain.loss.triplet.kind"),
        ({"ce": -1.0}, "pretrain.loss.ce"),
        ({"label_smoothing": 1.0}, "pretrain.loss.label_smoothing"),
        ({"margin": 0.3}, "pretrain.loss"),
        ({"mean_teacher": {"ce": -0.5}}, "pretrain.loss.mean_teacher.ce"),
    ],
)
def test_bad_loss_settings_are_one_line_errors_naming_the_key(section, key):
    with pytest.raises(SecretError) as info:
        LossConfig.from_config(section, "pretrain.loss", mean_teacher="mean_teacher" in section)
    message = str(info.value)
    assert key in message and "\n" not in message


def test_concat_trains_one_feature_with_one_classifier():
    """naive SECRET as the paper describes it: CE on one classifier over the three BN
    features side by side (the three classifiers' logits summed) and one triplet on the three
    pre-BN features side by side, all on the one label set (the global column)."""
    out = _outputs()
    labels = torch.tensor([[0, 5, 5], [0, 5, 5], [1, 5, 5], [1, 5, 5]])  # only global is read
    total, parts = compute_losses(out, None, labels, ["concat"], LossConfig())
    assert set(parts) == {"concat_ce", "concat_triplet", "total"}
    joined = torch.cat([out[b]["feat"] for b in ("global", "top", "bottom")], dim=1)
    logits = out["global"]["logits"] + out["top"]["logits"] + out["bottom"]["logits"]
    expected = cross_entropy_smooth(logits, labels[:, 0]) + batch_hard_triplet(
        joined, labels[:, 0], "soft_margin"
    )
    assert math.isclose(total.item(), expected.item(), rel_tol=1e-6)
    total.backward()
    assert all(out[b]["feat"].grad is not None for b in ("global", "top", "bottom"))
    assert all(out[b]["logits"].grad is not None for b in ("global", "top", "bottom"))
    # a linear classifier on the joined BN features is the sum of per-block logits
    w = [torch.randn(2, 3) for _ in range(3)]
    bn = [torch.randn(4, 3) for _ in range(3)]
    blocks = {
        b: {"feat": bn[i], "logits": bn[i] @ w[i].T}
        for i, b in enumerate(("global", "top", "bottom"))
    }
    one = torch.cat(bn, dim=1) @ torch.cat(w, dim=1).T
    assert torch.allclose(branch_output(blocks, "concat")["logits"], one, atol=1e-6)
    # with a teacher the soft terms read the teacher's joined outputs too
    _, mt_parts = compute_losses(
        _outputs(0), _outputs(1), labels, ["concat"], LossConfig.mean_teacher()
    )
    assert set(mt_parts) == {
        "concat_ce",
        "concat_soft_ce",
        "concat_triplet",
        "concat_soft_triplet",
        "total",
    }
