"""Feature extraction: the three L2-normalised BN features of every image, in order."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from secret_core import BRANCHES
from secret_core.device import amp_enabled, autocast, channels_last_enabled
from secret_core.progress import progress


def extract_features(
    model: nn.Module,
    loader: Iterable[dict],
    *,
    device: torch.device | str = "cpu",
    amp: bool = False,
    show_progress: bool = True,
) -> dict[str, np.ndarray]:
    """float32 (N, d) per branch, in the loader's order (eval mode, inference mode).

    ``show_progress``: a bar on a terminal, ~10 log lines in a rule's log (a full gallery
    takes minutes, and its log should say how far it is).

    On CUDA the images and weights go channels-last and AMP is used when asked; on the CPU
    both are skipped (device.py: slower there, and AMP would change the results). The
    model's train/eval mode is restored afterwards (its memory format is not: channels-last
    weights also suit the training that follows on CUDA).
    """
    device = torch.device(device)
    use_amp = amp_enabled(device, amp)
    channels_last = channels_last_enabled(device)
    was_training = model.training
    model.eval()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    chunks: dict[str, list[np.ndarray]] = {b: [] for b in BRANCHES}
    try:
        with torch.inference_mode(), autocast(device, use_amp):
            for batch in progress(loader, "extract") if show_progress else loader:
                images = batch["images"].to(device, non_blocking=True)
                if channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                out = model(images)
                for branch in BRANCHES:
                    chunks[branch].append(out[branch].float().cpu().numpy())
    finally:
        model.train(was_training)
    dim = int(getattr(model, "feat_dim", 0))
    return {
        b: np.concatenate(chunks[b]).astype(np.float32, copy=False)
        if chunks[b]
        else np.zeros((0, dim), dtype=np.float32)
        for b in BRANCHES
    }
