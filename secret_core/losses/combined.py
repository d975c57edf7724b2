"""The per-branch loss of SECRET: CE + triplet on each branch, plus the mean teacher's soft
losses when a teacher is given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.losses.classification import CrossEntropyLabelSmooth, SoftEntropy
from secret_core.losses.triplet import SoftTripletLoss, TripletLoss


@dataclass
class LossConfig:
    """Weights of the four loss terms (each summed over the branches in use)."""

    ce: float = 1.0
    triplet: float = 1.0
    soft_ce: float = 0.0
    soft_triplet: float = 0.0
    label_smoothing: float = 0.1
    margin: float | None = 0.3

    @classmethod
    def mean_teacher(cls) -> LossConfig:
        """The authors' mean-teacher mix: 0.5 CE + 0.5 soft CE + 0.2 soft-margin triplet +
        0.8 soft triplet."""
        return cls(ce=0.5, triplet=0.2, soft_ce=0.5, soft_triplet=0.8, margin=None)


def compute_losses(
    student_out: Mapping[str, dict],
    teacher_out: Mapping[str, dict] | None,
    labels: torch.Tensor,
    branches: Sequence[str],
    cfg: LossConfig,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its weighted parts (``<branch>_<term>`` and ``total``).

    A branch only sees its samples whose label (column of ``labels`` in ``BRANCHES`` order)
    is not -1; an all-ignored batch gives a zero that still backpropagates, so a training loop
    never needs a special case.
    """
    ce_fn = CrossEntropyLabelSmooth(cfg.label_smoothing)
    tri_fn = TripletLoss(cfg.margin)
    soft_ce_fn, soft_tri_fn = SoftEntropy(), SoftTripletLoss()
    total: torch.Tensor | None = None
    parts: dict[str, float] = {}
    for branch in branches:
        if branch not in BRANCHES:
            raise SecretError(f"loss branch '{branch}' is unknown; use {', '.join(BRANCHES)}")
        target = labels[:, BRANCHES.index(branch)]
        out = student_out[branch]
        logits = out.get("logits")
        terms: dict[str, torch.Tensor] = {}
        if cfg.ce and logits is not None:
            terms["ce"] = cfg.ce * ce_fn(logits, target)
        if cfg.triplet:
            terms["triplet"] = cfg.triplet * tri_fn(out["feat"], target)
        if teacher_out is not None:
            ref = teacher_out[branch]
            if cfg.soft_ce and logits is not None and ref.get("logits") is not None:
                terms["soft_ce"] = cfg.soft_ce * soft_ce_fn(logits, ref["logits"], target >= 0)
            if cfg.soft_triplet:
                terms["soft_triplet"] = cfg.soft_triplet * soft_tri_fn(
                    out["feat"], ref["feat"], target
                )
        for name, value in terms.items():
            parts[f"{branch}_{name}"] = float(value.detach())
            total = value if total is None else total + value
    if total is None:  # no term applies: a graph-connected zero over every output feature
        total = sum(o["feat"].float().sum() for o in student_out.values()) * 0.0
    parts["total"] = float(total.detach())
    return total, parts
