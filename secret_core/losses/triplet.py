"""Batch-hard triplet loss (soft-margin or hinge) and the mean teacher's soft triplet loss.

Both act on the pre-BN features. Distances are computed in float32 even under CUDA autocast:
squared norms of 2048-d pre-BN features approach float16's range, and the difference of two
large numbers in the expanded distance formula would lose every significant digit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from secret_core.losses.classification import zero_like_graph
from secret_core.losses.config import check_triplet
from secret_core.pipeline.rules import DEFAULT_LONE_ANCHORS


def euclidean(x: torch.Tensor) -> torch.Tensor:
    """Pairwise Euclidean distances of the rows of ``x`` (clamped for a stable sqrt)."""
    x = x.float()
    sq = (x * x).sum(dim=1, keepdim=True)
    d2 = sq + sq.t() - 2.0 * x @ x.t()
    return d2.clamp_min(1e-12).sqrt()


def hardest_pairs(
    dist: torch.Tensor, labels: torch.Tensor, lone_anchors: str = DEFAULT_LONE_ANCHORS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each anchor: the farthest positive and the closest negative (indices), and which
    anchors have both (others are left out of the loss).

    ``lone_anchors: self`` (the authors' ``_batch_hard``) counts each anchor among its own
    positives, so an anchor whose label has no other image in the batch is its own hardest
    positive (distance ~0) and stays in the loss; ``drop`` leaves such anchors out.
    """
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    pos_mask = same if lone_anchors == "self" else same & ~eye
    neg_mask = ~same
    d = dist.detach()
    big = d.max() + 1.0
    pos_idx = torch.where(pos_mask, d, -big).argmax(dim=1)
    neg_idx = torch.where(neg_mask, d, 2 * big).argmin(dim=1)
    valid = pos_mask.any(dim=1) & neg_mask.any(dim=1)
    return pos_idx, neg_idx, valid


def _mine(
    features: torch.Tensor, labels: torch.Tensor, lone_anchors: str = DEFAULT_LONE_ANCHORS
) -> tuple[torch.Tensor, ...] | None:
    """Batch-hard mining shared by both triplet losses: (distances among the labelled samples,
    row indices, hardest positive and negative per anchor, which anchors have both, the
    labelled mask), or None when no anchor has both (the loss is then a graph-connected 0)."""
    keep = labels >= 0
    if int(keep.sum()) < 2:
        return None
    labels = labels[keep]
    dist = euclidean(features[keep])
    pos_idx, neg_idx, valid = hardest_pairs(dist, labels, lone_anchors)
    if not valid.any():
        return None
    rows = torch.arange(len(labels), device=labels.device)
    return dist, rows, pos_idx, neg_idx, valid, keep


def batch_hard_triplet(
    features: torch.Tensor,
    labels: torch.Tensor,
    kind: str = "soft_margin",
    margin: float | None = None,
    lone_anchors: str = DEFAULT_LONE_ANCHORS,
) -> torch.Tensor:
    """Batch-hard triplet loss over the anchors that have a positive and a negative.

    ``soft_margin``: softplus(d_ap - d_an), the authors' form in both stages (no margin);
    ``hinge``: max(0, d_ap - d_an + margin). Samples labelled -1 are ignored.
    """
    check_triplet(kind, margin)
    mined = _mine(features, labels, lone_anchors)
    if mined is None:
        return zero_like_graph(features)
    dist, rows, pos_idx, neg_idx, valid, _ = mined
    gap = dist[rows, pos_idx][valid] - dist[rows, neg_idx][valid]
    if kind == "soft_margin":
        return F.softplus(gap).mean()
    return F.relu(gap + float(margin)).mean()


def soft_triplet(
    features: torch.Tensor,
    teacher_features: torch.Tensor,
    labels: torch.Tensor,
    lone_anchors: str = DEFAULT_LONE_ANCHORS,
) -> torch.Tensor:
    """The student's softmax over (d_ap, d_an) matched to the teacher's at the same pairs
    (mined on the student), as in mutual mean teaching; the teacher is detached.

    It transfers the teacher's relative confidence in each triplet instead of a hard
    ordering, which tolerates pseudo-label noise better than the margin loss.
    """
    mined = _mine(features, labels, lone_anchors)
    if mined is None:
        return zero_like_graph(features)
    dist, rows, pos_idx, neg_idx, valid, keep = mined
    student = torch.stack([dist[rows, pos_idx], dist[rows, neg_idx]], dim=1)[valid]
    ref_dist = euclidean(teacher_features[keep].detach())
    teacher = torch.stack([ref_dist[rows, pos_idx], ref_dist[rows, neg_idx]], dim=1)[valid]
    target = F.softmax(teacher, dim=1)
    return -(target * F.log_softmax(student, dim=1)).sum(dim=1).mean()
