"""Mean teacher: an exponential moving average of the student's weights."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from secret_core.errors import SecretError
from secret_core.modeling.state import load_model_state

# The authors' teacher: momentum 0.999 over the paper's 80 epochs x 400 iterations, an average
# over about the last 1 / (1 - 0.999) = 1,000 of 32,000 iterations, 1/32 of the run (their
# released scripts run 50 epochs, where the same 0.999 is 1/20 of it).
AUTHORS_TEACHER_SHARE = 1000 / 32000


def teacher_momentum(setting: float | str, total_iterations: int) -> float:
    """``adapt.momentum``: a number, or ``auto`` for the authors' share of the run.

    The teacher averages the student over its last ~1/(1 - momentum) iterations. The authors'
    0.999 makes that window 1/32 of their 32,000 iterations; over a short run the same 0.999
    averages (with the 1/(t + 1) ramp) every iterate since the start, so the teacher that
    clusters and is evaluated sits half a run behind a student whose mAP is still rising.
    ``auto`` keeps the authors' share: 1 - 1 / (total_iterations / 32), which is 0.999 at
    their 32,000 and 0.97 over the demo's 24 x 44.
    """
    if setting == "auto":
        window = AUTHORS_TEACHER_SHARE * max(int(total_iterations), 1)
        return max(0.0, 1.0 - 1.0 / window)
    if isinstance(setting, (int, float)) and not isinstance(setting, bool) and 0 <= setting <= 1:
        return float(setting)
    raise SecretError(
        f"adapt.momentum must be a number in [0, 1] or 'auto', got {setting!r}; fix the config"
    )


class MeanTeacher:
    """EMA copy of ``student``; decay = min(1 - 1/(t + 1), momentum) at global step t.

    The ramp makes the teacher follow the student closely at first (decay 0 at t = 0 makes
    its parameters a copy), as in the authors' code. Only parameters are averaged; buffers
    (BN running statistics) are never touched here: the teacher runs its own train-mode
    forward on every batch (see ``train_epoch``), so its running statistics describe its own
    averaged weights, as in the authors' code. Copying the student's statistics would pair
    the teacher's weights with another network's activation statistics.
    """

    def __init__(self, student: nn.Module, momentum: float = 0.999) -> None:
        self.student = student
        self.momentum = float(momentum)
        self.model = copy.deepcopy(student)
        self._freeze()

    def _freeze(self) -> None:
        for param in self.model.parameters():
            param.requires_grad_(False)

    def decay(self, global_step: int) -> float:
        """The EMA weight of the old teacher at ``global_step``."""
        return min(1.0 - 1.0 / (global_step + 1), self.momentum)

    @torch.no_grad()
    def update(self, global_step: int) -> None:
        """Move the teacher towards the student after the optimiser step ``global_step``.

        Parameters are matched by name; one whose shape differs (a classifier resized on
        one side only) is copied from the student instead of averaged. Buffers are left
        alone: the teacher's BN statistics come from its own forward passes.
        """
        decay = self.decay(int(global_step))
        student_params = dict(self.student.named_parameters())
        for name, t_param in self.model.named_parameters():
            s_param = student_params[name].detach()
            if t_param.shape != s_param.shape:
                t_param.data = s_param.clone()
                continue
            t_param.mul_(decay).add_(s_param, alpha=1.0 - decay)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The teacher network's weights (what checkpoints store under ``teacher``)."""
        return self.model.state_dict()

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Load teacher weights saved by :meth:`state_dict`, resizing its classifiers first
        (the stored epoch may have had another number of clusters); stays frozen."""
        load_model_state(self.model, state)
        self._freeze()
