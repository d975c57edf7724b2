"""Mean teacher: an exponential moving average of the student's weights."""

from __future__ import annotations

import copy

import torch
from torch import nn


class MeanTeacher:
    """EMA copy of a student; decay = min(1 - 1/(t + 1), momentum) at global step t.

    The ramp makes the teacher follow the student closely at first (decay 0 at t = 0 makes
    it a copy), as in the authors' code. Only parameters are averaged; buffers (BN running
    statistics) are copied from the student.
    """

    def __init__(self, student: nn.Module, momentum: float = 0.999) -> None:
        self.momentum = momentum
        self.model = copy.deepcopy(student)
        for param in self.model.parameters():
            param.requires_grad_(False)

    @torch.no_grad()
    def update(self, student: nn.Module, global_step: int) -> None:
        decay = min(1.0 - 1.0 / (global_step + 1), self.momentum)
        for t_param, s_param in zip(self.model.parameters(), student.parameters(), strict=True):
            if t_param.shape != s_param.shape:  # classifier resized this epoch
                t_param.data = s_param.detach().clone()
                continue
            t_param.mul_(decay).add_(s_param.detach(), alpha=1.0 - decay)
        for t_buf, s_buf in zip(self.model.buffers(), student.buffers(), strict=True):
            t_buf.copy_(s_buf)
