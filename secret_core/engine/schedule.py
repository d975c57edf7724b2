"""Learning-rate schedule as a pure function of (epoch, iteration).

Every target epoch of the workflow is a separate process (one Snakemake job), and a run can
resume at any epoch, so the learning rate cannot live in a torch scheduler object whose
state would have to be carried from job to job: it is recomputed from the counters alone.

One convention everywhere (config, library, tests): epochs are 1-based and a step is a
``[from_epoch, multiplier]`` pair, the multiplier applying from that epoch on. The authors'
MultiStepLR milestones 40 and 70 (counted in completed epochs) are ``[[41, 0.1], [71, 0.01]]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from secret_core.errors import SecretError
from secret_core.pipeline.rules import DEFAULT_WARMUP_PER, WARMUP_PER


def step_multiplier(epoch: int, lr_steps: Sequence[Sequence[float]]) -> float:
    """The multiplier of the last ``[from_epoch, multiplier]`` step reached by ``epoch``."""
    factor = 1.0
    for start, multiplier in sorted(lr_steps or (), key=lambda step: step[0]):
        if epoch >= start:
            factor = float(multiplier)
    return factor


def lr_at(
    epoch: int,
    iteration: int,
    iters_per_epoch: int,
    base_lr: float,
    lr_steps: Sequence[Sequence[float]] = (),
    warmup_epochs: int = 0,
    warmup_factor: float = 0.01,
    warmup_per: str = DEFAULT_WARMUP_PER,
) -> float:
    """The learning rate of ``iteration`` (0-based, within the epoch) of ``epoch`` (1-based).

    Warm-up rises linearly from ``warmup_factor * base_lr`` at the first iteration to
    ``base_lr`` after ``warmup_epochs`` epochs, at every iteration (``warmup_per:
    iteration``) or once per epoch and flat within it (``epoch``: the authors'
    WarmupMultiStepLR, stepped per epoch); ``lr_steps`` multiply the result (see the module
    docstring). No warm-up and no steps is a constant lr (UDA).
    """
    if epoch < 1 or iteration < 0 or iters_per_epoch < 1:
        raise SecretError(
            f"lr_at needs epoch >= 1, iteration >= 0 and iters_per_epoch >= 1, got "
            f"epoch={epoch}, iteration={iteration}, iters_per_epoch={iters_per_epoch}"
        )
    if warmup_per not in WARMUP_PER:
        raise SecretError(
            f"pretrain.warmup_per must be one of {', '.join(WARMUP_PER)}, got {warmup_per!r}"
        )
    factor = step_multiplier(epoch, lr_steps)
    if warmup_per == "epoch":
        warmup_iters, step = warmup_epochs, epoch - 1
    else:
        warmup_iters = warmup_epochs * iters_per_epoch
        step = (epoch - 1) * iters_per_epoch + iteration
    if step < warmup_iters:
        alpha = step / warmup_iters
        factor *= warmup_factor * (1.0 - alpha) + alpha
    return float(base_lr * factor)


def lr_function(
    base_lr: float,
    epoch: int,
    iters_per_epoch: int,
    lr_steps: Sequence[Sequence[float]] = (),
    warmup_epochs: int = 0,
    warmup_factor: float = 0.01,
    warmup_per: str = DEFAULT_WARMUP_PER,
) -> Callable[[int], float]:
    """``iteration -> lr`` within ``epoch``: the ``lr_fn`` that ``train_epoch`` takes."""

    def lr_of(iteration: int) -> float:
        return lr_at(
            epoch,
            iteration,
            iters_per_epoch,
            base_lr,
            lr_steps,
            warmup_epochs,
            warmup_factor,
            warmup_per,
        )

    return lr_of
