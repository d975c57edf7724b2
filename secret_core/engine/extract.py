"""Feature extraction: the three L2-normalised BN features of every image, in order."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from secret_core import BRANCHES
from secret_core.device import autocast


def extract_features(
    model: nn.Module,
    loader: Iterable[dict],
    *,
    device: torch.device | str = "cpu",
    amp: bool = False,
) -> dict[str, np.ndarray]:
    """float32 (N, d) per branch, in the loader's order (eval mode, no autograd)."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    chunks: dict[str, list[np.ndarray]] = {b: [] for b in BRANCHES}
    channels_last = device.type == "cuda"
    if channels_last:
        model.to(memory_format=torch.channels_last)
    with torch.inference_mode(), autocast(device, amp):
        for batch in loader:
            images = batch["images"].to(device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            out = model(images)
            for branch in BRANCHES:
                chunks[branch].append(out[branch].float().cpu().numpy())
    model.train(was_training)
    return {b: np.concatenate(chunks[b]).astype(np.float32, copy=False) for b in BRANCHES}
