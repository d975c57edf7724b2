"""Identity classification losses: label-smoothed CE and the mean teacher's soft CE.

Plain functions (no module state): the weights and smoothing live in one ``LossConfig``
built once per stage. Both compute in float32 even under CUDA autocast: log-softmax over
thousands of classes in float16 loses the small probabilities that label smoothing relies on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def zero_like_graph(tensor: torch.Tensor) -> torch.Tensor:
    """A zero that still belongs to the graph, so backward() works on an all-ignored batch."""
    return tensor.float().sum() * 0.0


def cross_entropy_smooth(
    logits: torch.Tensor, targets: torch.Tensor, epsilon: float = 0.1
) -> torch.Tensor:
    """CE against (1 - epsilon) one-hot + epsilon / C; targets -1 are ignored.

    Smoothing keeps the classifier from becoming over-confident on pseudo labels, which are
    partly wrong by construction (the authors use epsilon 0.1 in both stages).
    """
    keep = targets >= 0
    if not keep.any():
        return zero_like_graph(logits)
    logits, targets = logits[keep].float(), targets[keep]
    log_probs = F.log_softmax(logits, dim=1)
    num_classes = logits.shape[1]
    smooth = torch.full_like(log_probs, epsilon / num_classes)
    smooth.scatter_(1, targets[:, None], 1 - epsilon + epsilon / num_classes)
    return -(smooth * log_probs).sum(dim=1).mean()


def soft_cross_entropy(
    logits: torch.Tensor, teacher_logits: torch.Tensor, keep: torch.Tensor | None = None
) -> torch.Tensor:
    """CE of the student's logits against the (detached) teacher's probabilities.

    ``keep`` selects the samples that count (those with a label in this branch).
    """
    if keep is not None:
        if not keep.any():
            return zero_like_graph(logits)
        logits, teacher_logits = logits[keep], teacher_logits[keep]
    target = F.softmax(teacher_logits.detach().float(), dim=1)
    return -(target * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()
