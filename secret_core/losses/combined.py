"""The per-branch loss of SECRET: CE + triplet on each branch, plus the mean teacher's soft
losses when a teacher is given.

One ``LossConfig`` is built per stage from the config (``pretrain.loss`` or ``adapt.loss``)
and passed to every iteration; the loss terms are plain functions, so nothing is rebuilt per
batch and nothing is hidden in a default (the triplet kind is always explicit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.losses.classification import cross_entropy_smooth, soft_cross_entropy
from secret_core.losses.config import LossConfig
from secret_core.losses.triplet import batch_hard_triplet, soft_triplet

# The loss "branch" of naive SECRET, which the paper fine-tunes "on the concatenation of global
# and two local features; others are same as Baseline": one feature, one classifier.
CONCAT = "concat"
LOSS_BRANCHES = (*BRANCHES, CONCAT)


def branch_output(out: Mapping[str, dict], branch: str) -> dict:
    """The model output one loss branch reads: a branch's own, or for ``concat`` the three
    pre-BN features side by side and the sum of the three classifiers' logits.

    The sum is exactly one bias-free linear classifier on the concatenated BN-neck features
    whose weight is the three classifiers' weights side by side, so the model needs no extra
    head; that classifier starts from the normalised centroids of the concatenation, split
    into the three blocks (``pipeline.training.classifier_weights``).
    """
    if branch != CONCAT:
        return out[branch]
    logits = [out[b].get("logits") for b in BRANCHES]
    return {
        "feat": torch.cat([out[b]["feat"] for b in BRANCHES], dim=1),
        "logits": None if any(x is None for x in logits) else sum(logits),
    }


def branch_target(labels: torch.Tensor, branch: str) -> torch.Tensor:
    """The label column a loss branch trains on; ``concat`` has one label set, which the
    concatenated clustering writes to every branch's column (the global one is read)."""
    return labels[:, BRANCHES.index("global" if branch == CONCAT else branch)]


def compute_losses(
    student_out: Mapping[str, dict],
    teacher_out: Mapping[str, dict] | None,
    labels: torch.Tensor,
    branches: Sequence[str],
    cfg: LossConfig,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its weighted parts (``<branch>_<term>`` and ``total``).

    A branch only sees its samples whose label (column of ``labels`` in ``BRANCHES`` order)
    is not -1 (``concat``: the three features as one, see :func:`branch_output`); an
    all-ignored batch gives a zero that still backpropagates, so a training loop never needs
    a special case. Soft terms need ``teacher_out``; terms of weight 0 are skipped.
    """
    total: torch.Tensor | None = None
    parts: dict[str, float] = {}
    for branch in branches:
        if branch not in LOSS_BRANCHES:
            raise SecretError(f"loss branch '{branch}' is unknown; use {', '.join(LOSS_BRANCHES)}")
        target = branch_target(labels, branch)
        out = branch_output(student_out, branch)
        logits = out.get("logits")
        terms: dict[str, torch.Tensor] = {}
        if cfg.ce and logits is not None:
            terms["ce"] = cfg.ce * cross_entropy_smooth(logits, target, cfg.label_smoothing)
        if cfg.triplet:
            terms["triplet"] = cfg.triplet * batch_hard_triplet(
                out["feat"], target, cfg.triplet_kind, cfg.margin, cfg.lone_anchors
            )
        if teacher_out is not None:
            ref = branch_output(teacher_out, branch)
            if cfg.soft_ce and logits is not None and ref.get("logits") is not None:
                terms["soft_ce"] = cfg.soft_ce * soft_cross_entropy(
                    logits, ref["logits"], target >= 0
                )
            if cfg.soft_triplet:
                terms["soft_triplet"] = cfg.soft_triplet * soft_triplet(
                    out["feat"], ref["feat"], target, cfg.lone_anchors
                )
        for name, value in terms.items():
            parts[f"{branch}_{name}"] = float(value.detach())
            total = value if total is None else total + value
    if total is None:  # no term applies: a graph-connected zero over every output feature
        total = sum(o["feat"].float().sum() for o in student_out.values()) * 0.0
    parts["total"] = float(total.detach())
    return total, parts
