"""Learning-rate schedule as a pure function of (epoch, iteration).

Every target epoch of the workflow is a separate process (one Snakemake job), and a run can
resume at any epoch, so the learning rate cannot live in a torch scheduler object whose
state would have to be carried from job to job: it is recomputed from the counters alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from secret_core.errors import SecretError


def lr_at(
    epoch: int,
    iteration: int,
    iters_per_epoch: int,
    base_lr: float,
    warmup_epochs: int = 10,
    warmup_factor: float = 0.01,
    milestones: Sequence[int] = (40, 70),
    gamma: float = 0.1,
) -> float:
    """The learning rate of ``iteration`` (0-based, within the epoch) of ``epoch`` (1-based).

    Warm-up rises linearly per iteration from ``warmup_factor * base_lr`` at the first
    iteration to ``base_lr`` after ``warmup_epochs`` epochs. A milestone m counts completed
    epochs, as in torch's MultiStepLR and the authors' 0-based scheduler: epochs m+1 onwards
    are multiplied by ``gamma`` (so 40 and 70 with 80 epochs give 1, 0.1, 0.01 over epochs
    1-40, 41-70, 71-80). ``warmup_epochs=0, milestones=()`` is a constant lr (UDA).
    """
    if epoch < 1 or iteration < 0 or iters_per_epoch < 1:
        raise SecretError(
            f"lr_at needs epoch >= 1, iteration >= 0 and iters_per_epoch >= 1, got "
            f"epoch={epoch}, iteration={iteration}, iters_per_epoch={iters_per_epoch}"
        )
    done = epoch - 1
    factor = gamma ** sum(1 for m in milestones if done >= m)
    warmup_iters = warmup_epochs * iters_per_epoch
    step = done * iters_per_epoch + iteration
    if step < warmup_iters:
        alpha = step / warmup_iters
        factor *= warmup_factor * (1.0 - alpha) + alpha
    return float(base_lr * factor)


def epoch_lr_fn(
    epoch: int, iters_per_epoch: int, base_lr: float, **schedule: object
) -> Callable[[int], float]:
    """``iteration -> lr`` for one epoch, the ``lr_fn`` that ``train_epoch`` takes;
    ``schedule`` holds :func:`lr_at`'s keyword arguments (warmup_epochs, milestones, ...)."""

    def lr_fn(iteration: int) -> float:
        return lr_at(epoch, iteration, iters_per_epoch, base_lr, **schedule)  # type: ignore[arg-type]

    return lr_fn
