"""Learning-rate schedules of the recipe, as pure functions of (epoch, iteration).

Every target epoch runs in its own process (one Snakemake job), so the schedule must be a
function of the epoch number rather than the state of a scheduler object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def step_multiplier(epoch: int, lr_steps: Sequence[Sequence[float]]) -> float:
    """The multiplier of the last ``[from_epoch, multiplier]`` step reached (1-based epochs)."""
    factor = 1.0
    for start, multiplier in sorted(lr_steps or (), key=lambda s: s[0]):
        if epoch >= start:
            factor = float(multiplier)
    return factor


def lr_function(
    base_lr: float,
    epoch: int,
    iters_per_epoch: int,
    lr_steps: Sequence,
    warmup_epochs: int = 0,
    warmup_factor: float = 0.01,
) -> Callable[[int], float]:
    """Iteration -> lr within ``epoch``: linear warm-up from ``warmup_factor``, then steps."""
    steps_factor = step_multiplier(epoch, lr_steps)
    warmup_iters = warmup_epochs * iters_per_epoch

    def lr_at(iteration: int) -> float:
        global_iter = (epoch - 1) * iters_per_epoch + iteration
        if global_iter < warmup_iters:
            alpha = global_iter / warmup_iters
            return base_lr * (warmup_factor * (1 - alpha) + alpha)
        return base_lr * steps_factor

    return lr_at
