"""One training epoch (source pre-training or target fine-tuning on pseudo labels)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from secret_core.device import amp_enabled, autocast, channels_last_enabled
from secret_core.engine.ema import MeanTeacher
from secret_core.engine.optim import set_lr
from secret_core.errors import SecretError
from secret_core.losses import LossConfig, branch_output, branch_target, compute_losses
from secret_core.progress import progress as progress_of


def train_epoch(
    model: nn.Module,
    loader: Iterable[dict],
    optimizer: torch.optim.Optimizer,
    *,
    branches: Sequence[str],
    loss_cfg: LossConfig,
    epoch: int,
    lr_fn: Callable[[int], float] | None = None,
    teacher: MeanTeacher | None = None,
    global_step_start: int = 0,
    bn_adapt_batches: Iterator[Mapping[str, torch.Tensor] | torch.Tensor] | None = None,
    detach_local: bool = False,
    device: torch.device | str = "cpu",
    amp: bool = False,
    progress: bool = True,
    log: logging.Logger | None = None,
) -> dict[str, Any]:
    """Run the loader once; return mean loss parts, per-branch accuracy and step counters.

    ``lr_fn`` maps the iteration within the epoch to a learning rate (warm-up and steps are
    per iteration). With a ``teacher``, its outputs (train mode, no autograd) feed the soft
    losses and it is updated after every optimiser step with that step's global index, so
    the first step of a run (index 0) makes it a copy of the student, as in the authors' code.

    ``bn_adapt_batches`` (source pre-training): one target batch (a loader dict or an image
    tensor) is drawn per iteration and forwarded after the source batch without autograd and
    without a loss, only so that BatchNorm's running statistics also see the target domain,
    as the authors' pre-training does. It must yield at least one batch per iteration.

    Returns ``losses`` (mean of each part of :func:`compute_losses`, incl. ``total``),
    ``accuracy`` (branch -> training accuracy of its classifier over labelled samples),
    ``iterations``, ``global_step_end`` and ``seconds``.
    """
    device = torch.device(device)
    use_amp = amp_enabled(device, amp)
    channels_last = channels_last_enabled(device)
    model.train()
    if teacher is not None:
        teacher.model.train()
    if channels_last:
        model.to(memory_format=torch.channels_last)
        if teacher is not None:
            teacher.model.to(memory_format=torch.channels_last)
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp)
    sums: dict[str, float] = defaultdict(float)
    correct: dict[str, int] = defaultdict(int)
    counted: dict[str, int] = defaultdict(int)
    step, iterations, start = int(global_step_start), 0, time.perf_counter()
    # A bar on a terminal, one log line per ~10% in a rule's log (see secret_core.progress).
    bar = progress_of(loader, f"epoch {epoch}", log=log) if progress else loader
    for iteration, batch in enumerate(bar):
        if lr_fn is not None:
            set_lr(optimizer, lr_fn(iteration))
        images = _images(batch, device, channels_last)
        labels = batch["labels"].to(device, non_blocking=True)
        with autocast(device, use_amp):
            out = model(images, detach_local=detach_local)
            if bn_adapt_batches is not None:
                _adapt_bn(model, bn_adapt_batches, device, channels_last, iteration, epoch)
            teacher_out = None
            if teacher is not None:
                with torch.no_grad():
                    teacher_out = teacher.model(images)
            loss, parts = compute_losses(out, teacher_out, labels, branches, loss_cfg)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if teacher is not None:
            teacher.update(step)
        step += 1
        iterations += 1
        for key, value in parts.items():
            sums[key] += value
        _count_correct(out, labels, branches, correct, counted)
        if progress:
            bar.set_postfix(loss=f"{parts['total']:.3f}")  # type: ignore[union-attr]
    stats: dict[str, Any] = {
        "losses": {k: v / max(iterations, 1) for k, v in sums.items()},
        "accuracy": {b: correct[b] / counted[b] for b in branches if counted[b]},
        "iterations": iterations,
        "global_step_end": step,
        "seconds": time.perf_counter() - start,
    }
    if log is not None:
        log.info(
            "epoch %d: loss %.4f, accuracy %s, %d iterations in %.1f s",
            epoch,
            stats["losses"].get("total", float("nan")),
            {b: round(a, 3) for b, a in stats["accuracy"].items()},
            iterations,
            stats["seconds"],
        )
    return stats


def _images(
    batch: Mapping[str, torch.Tensor] | torch.Tensor, device: torch.device, channels_last: bool
) -> torch.Tensor:
    """The batch's images on ``device``, in the memory format the model uses there."""
    images = batch["images"] if isinstance(batch, Mapping) else batch
    images = images.to(device, non_blocking=True)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    return images


def _adapt_bn(
    model: nn.Module,
    batches: Iterator[Mapping[str, torch.Tensor] | torch.Tensor],
    device: torch.device,
    channels_last: bool,
    iteration: int,
    epoch: int,
) -> None:
    """Forward one target batch in train mode without autograd (BN statistics only)."""
    target = next(batches, None)
    if target is None:
        raise SecretError(
            f"bn_adapt_batches ran out at iteration {iteration} of epoch {epoch}; pass an "
            "iterator that yields one target batch per iteration (e.g. loop over the loader)"
        )
    with torch.no_grad():
        model(_images(target, device, channels_last))


def _count_correct(
    out: dict,
    labels: torch.Tensor,
    branches: Sequence[str],
    correct: dict[str, int],
    counted: dict[str, int],
) -> None:
    """Training accuracy of each loss branch's classifier over its labelled samples."""
    for branch in branches:
        logits = branch_output(out, branch).get("logits")
        target = branch_target(labels, branch)
        keep = target >= 0
        if logits is None or not bool(keep.any()):
            continue
        correct[branch] += int((logits.detach()[keep].argmax(1) == target[keep]).sum())
        counted[branch] += int(keep.sum())
