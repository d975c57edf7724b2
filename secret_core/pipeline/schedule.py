"""Learning-rate schedules of the recipe, as pure functions of (epoch, iteration).

Every target epoch runs in its own process (one Snakemake job), so the schedule must be a
function of the epoch number rather than the state of a scheduler object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from secret_core.engine.schedule import lr_at


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
    """Iteration -> lr within ``epoch``: linear warm-up from ``warmup_factor``, then steps.

    The warm-up is the engine's (``secret_core.engine.schedule.lr_at``); the config's steps
    are absolute ``[from_epoch, multiplier]`` pairs, applied once warm-up is over.
    """
    steps_factor = step_multiplier(epoch, lr_steps)
    warmup_iters = warmup_epochs * iters_per_epoch

    def lr_of(iteration: int) -> float:
        lr = lr_at(epoch, iteration, iters_per_epoch, base_lr, warmup_epochs, warmup_factor, ())
        if (epoch - 1) * iters_per_epoch + iteration < warmup_iters:
            return lr
        return lr * steps_factor

    return lr_of
