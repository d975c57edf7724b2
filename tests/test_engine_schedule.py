"""The learning-rate schedule: warm-up per iteration, milestones after completed epochs."""

import pytest

from secret_core.engine import epoch_lr_fn, lr_at
from secret_core.errors import SecretError

BASE = 3.5e-4


def test_warmup_is_linear_per_iteration_from_one_percent():
    assert lr_at(1, 0, 100, BASE) == pytest.approx(0.01 * BASE)
    halfway = lr_at(6, 0, 100, BASE)  # 500 of 1000 warm-up iterations: 0.01 * 0.5 + 0.5
    assert halfway == pytest.approx(0.505 * BASE)
    assert lr_at(10, 99, 100, BASE) == pytest.approx((0.01 * 0.001 + 0.999) * BASE)
    assert lr_at(11, 0, 100, BASE) == pytest.approx(BASE)
    values = [lr_at(1, i, 100, BASE) for i in range(100)]
    assert values == sorted(values) and len(set(values)) == 100


def test_milestones_count_completed_epochs():
    assert lr_at(40, 99, 100, BASE) == pytest.approx(BASE)
    assert lr_at(41, 0, 100, BASE) == pytest.approx(0.1 * BASE)
    assert lr_at(70, 5, 100, BASE) == pytest.approx(0.1 * BASE)
    assert lr_at(71, 0, 100, BASE) == pytest.approx(0.01 * BASE)
    assert lr_at(80, 99, 100, BASE) == pytest.approx(0.01 * BASE)
    # a milestone inside the warm-up multiplies the warm-up factor
    assert lr_at(2, 0, 10, 1.0, warmup_epochs=2, milestones=(1,), gamma=0.5) == pytest.approx(
        0.5 * 0.505
    )


def test_constant_schedule_and_epoch_function():
    for epoch, iteration in ((1, 0), (7, 399), (80, 123)):
        assert lr_at(epoch, iteration, 400, BASE, warmup_epochs=0, milestones=()) == BASE
    fn = epoch_lr_fn(41, 100, BASE, warmup_epochs=10)
    assert fn(3) == lr_at(41, 3, 100, BASE) == pytest.approx(0.1 * BASE)


def test_bad_counters_are_errors():
    with pytest.raises(SecretError, match="epoch >= 1"):
        lr_at(0, 0, 100, BASE)
    with pytest.raises(SecretError, match="iters_per_epoch"):
        lr_at(1, 0, 0, BASE)
