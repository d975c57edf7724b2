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


def euclidean(x: torch.Tensor) -> torch.Tensor:
    """Pairwise Euclidean distances of the rows of ``x`` (clamped for a stable sqrt)."""
    x = x.float()
    sq = (x * x).sum(dim=1, keepdim=True)
    d2 = sq + sq.t() - 2.0 * x @ x.t()
    return d2.clamp_min(1e-12).sqrt()


def hardest_pairs(
    dist: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each anchor: the farthest positive and the closest negative (indices), and which
    anchors have both (others are left out of the loss)."""
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    pos_mask, neg_mask = same & ~eye, ~same
    d = dist.detach()
    big = d.max() + 1.0
    pos_idx = torch.where(pos_mask, d, -big).argmax(dim=1)
    neg_idx = torch.where(neg_mask, d, 2 * big).argmin(dim=1)
    valid = pos_mask.any(dim=1) & neg_mask.any(dim=1)
    return pos_idx, neg_idx, valid


def batch_hard_triplet(
    features: torch.Tensor,
    labels: torch.Tensor,
    kind: str = "soft_margin",
    margin: float | None = None,
) -> torch.Tensor:
    """Batch-hard triplet loss over the anchors that have a positive and a negative.

    ``soft_margin``: softplus(d_ap - d_an), the authors' form in both stages (no margin);
    ``hinge``: max(0, d_ap - d_an + margin). Samples labelled -1 are ignored.
    """
    check_triplet(kind, margin)
    keep = labels >= 0
    if int(keep.sum()) < 2:
        return zero_like_graph(features)
    labels = labels[keep]
    dist = euclidean(features[keep])
    pos_idx, neg_idx, valid = hardest_pairs(dist, labels)
    if not valid.any():
        return zero_like_graph(features)
    rows = torch.arange(len(labels), device=labels.device)
    gap = dist[rows, pos_idx][valid] - dist[rows, neg_idx][valid]
    if kind == "soft_margin":
        return F.softplus(gap).mean()
    return F.relu(gap + float(margin)).mean()


def soft_triplet(
    features: torch.Tensor, teacher_features: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """The student's softmax over (d_ap, d_an) matched to the teacher's at the same pairs
    (mined on the student), as in mutual mean teaching; the teacher is detached.

    It transfers the teacher's relative confidence in each triplet instead of a hard
    ordering, which tolerates pseudo-label noise better than the margin loss.
    """
    keep = labels >= 0
    if int(keep.sum()) < 2:
        return zero_like_graph(features)
    labels = labels[keep]
    dist = euclidean(features[keep])
    pos_idx, neg_idx, valid = hardest_pairs(dist, labels)
    if not valid.any():
        return zero_like_graph(features)
    rows = torch.arange(len(labels), device=labels.device)
    student = torch.stack([dist[rows, pos_idx], dist[rows, neg_idx]], dim=1)[valid]
    ref_dist = euclidean(teacher_features[keep].detach())
    teacher = torch.stack([ref_dist[rows, pos_idx], ref_dist[rows, neg_idx]], dim=1)[valid]
    target = F.softmax(teacher, dim=1)
    return -(target * F.log_softmax(student, dim=1)).sum(dim=1).mean()
