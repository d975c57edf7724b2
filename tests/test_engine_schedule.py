"""The learning-rate schedule: linear warm-up per iteration, then [from_epoch, x] steps."""

import pytest

from secret_core.engine import lr_at, lr_function
from secret_core.engine.schedule import step_multiplier
from secret_core.errors import SecretError

BASE = 3.5e-4
PAPER_STEPS = [[41, 0.1], [71, 0.01]]  # the authors' MultiStepLR milestones 40 and 70


def test_warmup_is_linear_per_iteration_from_one_percent():
    assert lr_at(1, 0, 100, BASE, warmup_epochs=10) == pytest.approx(0.01 * BASE)
    halfway = lr_at(6, 0, 100, BASE, warmup_epochs=10)  # 500 of 1000 iterations
    assert halfway == pytest.approx(0.505 * BASE)
    assert lr_at(10, 99, 100, BASE, warmup_epochs=10) == pytest.approx(
        (0.01 * 0.001 + 0.999) * BASE
    )
    assert lr_at(11, 0, 100, BASE, warmup_epochs=10) == pytest.approx(BASE)
    values = [lr_at(1, i, 100, BASE, warmup_epochs=10) for i in range(100)]
    assert values == sorted(values) and len(set(values)) == 100


def test_authors_warmup_steps_once_per_epoch():
    """``warmup_per: epoch`` (the authors' scheduler, stepped per epoch): epoch e (1-based)
    runs at 0.01 (1 - a) + a with a = (e - 1) / 10, flat within the epoch; epoch 11 at base."""
    for epoch, factor in ((1, 0.01), (2, 0.01 * 0.9 + 0.1), (6, 0.505), (10, 0.01 * 0.1 + 0.9)):
        values = [lr_at(epoch, i, 100, BASE, warmup_epochs=10, warmup_per="epoch") for i in (0, 99)]
        assert values[0] == values[1] == pytest.approx(factor * BASE)
    assert lr_at(11, 0, 100, BASE, warmup_epochs=10, warmup_per="epoch") == pytest.approx(BASE)
    # per iteration (the former rule) runs about half an epoch ahead during the warm-up
    assert lr_at(2, 50, 100, BASE, warmup_epochs=10) > lr_at(
        2, 50, 100, BASE, warmup_epochs=10, warmup_per="epoch"
    )
    assert lr_function(BASE, 2, 100, (), 10, warmup_per="epoch")(7) == pytest.approx(
        (0.01 * 0.9 + 0.1) * BASE
    )
    with pytest.raises(SecretError, match="warmup_per"):
        lr_at(1, 0, 100, BASE, warmup_epochs=10, warmup_per="step")


def test_paper_pretraining_steps_from_epochs_41_and_71():
    assert step_multiplier(40, PAPER_STEPS) == 1.0
    assert step_multiplier(41, PAPER_STEPS) == 0.1
    assert lr_at(40, 99, 100, BASE, PAPER_STEPS, warmup_epochs=10) == pytest.approx(BASE)
    assert lr_at(41, 0, 100, BASE, PAPER_STEPS, warmup_epochs=10) == pytest.approx(0.1 * BASE)
    assert lr_at(70, 5, 100, BASE, PAPER_STEPS) == pytest.approx(0.1 * BASE)
    assert lr_at(71, 0, 100, BASE, PAPER_STEPS) == pytest.approx(0.01 * BASE)
    assert lr_at(80, 99, 100, BASE, PAPER_STEPS) == pytest.approx(0.01 * BASE)
    # a step inside the warm-up multiplies the warm-up factor
    assert lr_at(2, 0, 10, 1.0, [[2, 0.5]], warmup_epochs=2) == pytest.approx(0.5 * 0.505)


def test_usl_steps_and_constant_uda_schedule():
    usl = [[41, 0.3], [61, 0.1]]
    assert lr_at(41, 0, 400, BASE, usl) == pytest.approx(0.3 * BASE)
    assert lr_at(61, 0, 400, BASE, usl) == pytest.approx(0.1 * BASE)
    for epoch, iteration in ((1, 0), (7, 399), (80, 123)):
        assert lr_at(epoch, iteration, 400, BASE) == BASE
    fn = lr_function(BASE, 41, 100, PAPER_STEPS, warmup_epochs=10)
    assert fn(3) == lr_at(41, 3, 100, BASE, PAPER_STEPS, 10) == pytest.approx(0.1 * BASE)


def test_bad_counters_are_errors():
    with pytest.raises(SecretError, match="epoch >= 1"):
        lr_at(0, 0, 100, BASE)
    with pytest.raises(SecretError, match="iters_per_epoch"):
        lr_at(1, 0, 0, BASE)
