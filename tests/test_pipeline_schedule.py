"""Learning-rate schedules of the recipe (pure functions of epoch and iteration)."""

import pytest

from secret_core.pipeline.schedule import lr_function, step_multiplier


def test_step_multiplier_paper_pretraining():
    steps = [[40, 0.1], [70, 0.01]]
    assert step_multiplier(1, steps) == 1.0
    assert step_multiplier(39, steps) == 1.0
    assert step_multiplier(40, steps) == 0.1
    assert step_multiplier(80, steps) == 0.01


def test_warmup_is_linear_from_one_percent():
    lr = lr_function(1.0, epoch=1, iters_per_epoch=10, lr_steps=[], warmup_epochs=2)
    assert lr(0) == pytest.approx(0.01)
    assert lr(5) == pytest.approx(0.01 * 0.75 + 0.25)
    later = lr_function(1.0, epoch=2, iters_per_epoch=10, lr_steps=[], warmup_epochs=2)
    assert later(0) == pytest.approx(0.01 * 0.5 + 0.5)
    after = lr_function(1.0, epoch=3, iters_per_epoch=10, lr_steps=[], warmup_epochs=2)
    assert after(0) == 1.0


def test_constant_when_no_steps():
    lr = lr_function(3.5e-4, epoch=50, iters_per_epoch=400, lr_steps=[])
    assert lr(0) == lr(399) == 3.5e-4
