"""Adam moments carried from one target epoch to the next (adapt.optimizer_state: carry):
the restart kick they remove, worked by hand, and the exact continuation they give."""

import pytest
import torch
from torch import nn

from secret_core.engine import (
    adam_moments,
    build_optimizer,
    load_checkpoint,
    restore_adam_moments,
    save_checkpoint,
)


class _Head(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.classifier = nn.Linear(4, classes, bias=False)


class _Net(nn.Module):
    """A body and one head whose classifier is named as the real network's are."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.body = nn.Linear(5, 4)
        self.heads = nn.ModuleDict({"global": _Head(classes)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads["global"].classifier(torch.relu(self.body(x)))


def _steps(
    model: nn.Module, optimizer: torch.optim.Optimizer, start: int, count: int, scale: float = 1
) -> None:
    """``count`` seeded least-squares steps, batch ``start`` onwards (same data on reruns);
    input column j is multiplied by ``scale ** j``."""
    for step in range(start, start + count):
        gen = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 5, generator=gen), torch.randn(8, 3, generator=gen)
        x = x * scale ** torch.arange(5.0)
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()


def test_first_step_of_a_fresh_adam_moves_every_weight_by_the_lr():
    """By hand: after one step Adam's bias-corrected moments are g and g**2, so each weight
    moves by lr * g / (|g| + eps), i.e. by the lr itself whatever the size of its gradient.
    That is the kick a fresh Adam gives at every target epoch."""
    torch.manual_seed(0)
    model = _Net()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = build_optimizer(model, lr=1e-3, weight_decay=0.0)
    _steps(model, optimizer, 0, 1, scale=10.0)  # body gradients spanning four decades
    for old, new in zip(before, model.parameters(), strict=True):
        assert torch.allclose((new - old).abs(), torch.full_like(old, 1e-3), rtol=1e-4)


def test_carried_moments_continue_one_optimizer_exactly(tmp_path):
    """Four steps, the moments through a weights-only checkpoint, a new Adam given them, four
    more steps: the same weights as eight steps of one Adam. A fresh Adam ends elsewhere."""
    torch.manual_seed(0)
    reference = _Net()
    reference.heads["global"].classifier.weight.requires_grad_(False)  # made anew each epoch
    carried, fresh = _Net(), _Net()
    for other in (carried, fresh):
        other.load_state_dict(reference.state_dict())
        other.heads["global"].classifier.weight.requires_grad_(False)
    _steps(reference, build_optimizer(reference, lr=1e-2), 0, 8)

    first = build_optimizer(carried, lr=1e-2)
    _steps(carried, first, 0, 4)
    path = tmp_path / "epoch.pt"
    save_checkpoint(
        path, model=carried, epoch=1, global_step=4, adam_moments=adam_moments(first, carried)
    )
    moments = load_checkpoint(path)["adam_moments"]
    second = build_optimizer(carried, lr=1e-2)
    assert restore_adam_moments(second, carried, moments) == 2  # body weight and bias
    _steps(carried, second, 4, 4)

    _steps(fresh, build_optimizer(fresh, lr=1e-2), 0, 4)
    _steps(fresh, build_optimizer(fresh, lr=1e-2), 4, 4)
    for name, value in reference.state_dict().items():
        assert torch.equal(carried.state_dict()[name], value), name
    assert not torch.allclose(fresh.body.weight, reference.body.weight)


def test_classifiers_and_resized_parameters_start_fresh():
    """A classifier is re-made from refined centroids every epoch: its moments are never saved,
    and a saved entry whose shape no longer fits its parameter is left out."""
    torch.manual_seed(0)
    model = _Net(classes=3)
    optimizer = build_optimizer(model)
    _steps(model, optimizer, 0, 2)
    moments = adam_moments(optimizer, model)
    assert set(moments) == {"body.weight", "body.bias"}
    assert set(moments["body.weight"]) == {"step", "exp_avg", "exp_avg_sq"}
    assert moments["body.weight"]["step"].item() == 2

    moments["heads.global.classifier.weight"] = {
        "step": torch.tensor(2.0),
        "exp_avg": torch.ones(3, 4),
        "exp_avg_sq": torch.ones(3, 4),
    }
    moments["body.bias"]["exp_avg"] = torch.zeros(7)  # a body that changed shape
    moments["body.bias"]["exp_avg_sq"] = torch.zeros(7)
    again = build_optimizer(model)
    assert restore_adam_moments(again, model, moments) == 1
    assert set(again.state) == {model.body.weight}
    assert again.state[model.body.weight]["exp_avg"] is not moments["body.weight"]["exp_avg"]


def test_nothing_is_saved_without_moments(tmp_path):
    """The default (fresh) checkpoint carries no moments: ``adam_moments`` reads back None."""
    path = tmp_path / "plain.pt"
    save_checkpoint(path, model=_Net(), epoch=1, global_step=1)
    assert "adam_moments" not in torch.load(path, weights_only=True)
    assert load_checkpoint(path)["adam_moments"] is None


@pytest.mark.parametrize("bad", [None, {}])
def test_restoring_nothing_restores_nothing(bad):
    model = _Net()
    optimizer = build_optimizer(model)
    assert restore_adam_moments(optimizer, model, bad or {}) == 0
    assert not optimizer.state
