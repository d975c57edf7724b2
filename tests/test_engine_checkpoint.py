"""Checkpoints: weights-only round trip with resized classifiers, atomic writes, one-line
errors; only what is read back is written, and older checkpoints (with the optimizer and RNG
entries nothing read) still load."""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

from secret_core import seeding
from secret_core.engine import (
    CHECKPOINT_KEYS,
    MeanTeacher,
    adam_moments,
    build_optimizer,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
    train_epoch,
)
from secret_core.errors import SecretError
from secret_core.losses import LossConfig
from secret_core.modeling import build_model
from secret_core.seeding import seed_everything


def _batch() -> list[dict]:
    labels = torch.tensor([0, 0, 1, 1, 2, 2])[:, None].repeat(1, 3)
    images = torch.randn(6, 3, 32, 16)
    return [{"images": images, "labels": labels, "index": torch.arange(6), "camid": labels[:, 0]}]


def test_checkpoint_round_trip_with_resized_classifiers(tmp_path):
    seed_everything(0)
    model = build_model("resnet_tiny", {"global": 3, "top": 3, "bottom": 0})
    teacher = MeanTeacher(model)
    optimizer = build_optimizer(model)
    train_epoch(  # gives Adam a state to store
        model,
        _batch(),
        optimizer,
        branches=["global", "top"],
        loss_cfg=LossConfig.mean_teacher(),
        epoch=1,
        teacher=teacher,
        progress=False,
    )
    model.set_classifier("top", torch.randn(5, 128))
    path = tmp_path / "ckpt.pt"
    extra = {"eps": 0.5, "num_classes": {"global": 3}, "names": ["a", "b"]}
    moments = adam_moments(optimizer, model)  # what adapt.optimizer_state: carry stores
    save_checkpoint(
        path,
        model=model,
        teacher=teacher,
        epoch=2,
        global_step=40,
        extra=extra,
        adam_moments=moments,
    )
    state = torch.load(path, weights_only=True)  # the contract: safe loading works
    assert set(state) == set(CHECKPOINT_KEYS)
    assert set(CHECKPOINT_KEYS) == {
        "model",
        "teacher",
        "epoch",
        "global_step",
        "extra",
        "adam_moments",
    }
    assert set(state["adam_moments"]) == set(moments) and moments
    for name, entry in moments.items():
        for key, value in entry.items():
            assert torch.equal(state["adam_moments"][name][key], value), (name, key)
    state = load_checkpoint(path)
    assert (state["epoch"], state["global_step"], state["extra"]) == (2, 40, extra)
    fresh = build_model("resnet_tiny", 0)
    load_model_state(fresh, state["model"])
    assert fresh.num_classes() == {"global": 3, "top": 5, "bottom": 0}
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    fresh_teacher = MeanTeacher(fresh)
    load_model_state(fresh_teacher.model, state["teacher"])
    assert fresh_teacher.model.num_classes()["top"] == 3


def test_checkpoint_without_teacher(tmp_path):
    path = tmp_path / "sub" / "plain.pt"
    save_checkpoint(path, model=build_model("resnet_tiny", 2), epoch=0, global_step=0)
    state = load_checkpoint(path)
    assert set(state) == set(CHECKPOINT_KEYS)
    assert state["teacher"] is None and state["extra"] == {}


def test_no_optimizer_or_rng_state_is_written():
    """The authors build a fresh Adam every target epoch and every stage derives its seed, so
    neither state is ever read back: the writer does not accept them and seeding has no
    restore half (``adam_moments``, for ``adapt.optimizer_state: carry``, holds the moments
    alone, by parameter name, not an optimizer's state_dict)."""
    assert "optimizer" not in inspect.signature(save_checkpoint).parameters
    assert not hasattr(seeding, "rng_state") and not hasattr(seeding, "set_rng_state")


def test_old_checkpoint_with_optimizer_and_rng_still_loads(tmp_path):
    """A checkpoint in the previous format (Adam moments and RNG states included) loads into
    the current keys; the unused entries are dropped."""
    model = build_model("resnet_tiny", {"global": 3, "top": 3, "bottom": 0})
    optimizer = build_optimizer(model)
    train_epoch(
        model,
        _batch(),
        optimizer,
        branches=["global"],
        loss_cfg=LossConfig(),
        epoch=1,
        progress=False,
    )
    old = {
        "model": model.state_dict(),
        "teacher": None,
        "optimizer": optimizer.state_dict(),
        "epoch": 3,
        "global_step": 12,
        "rng": {
            "python": [3, list(range(625)), None],
            "numpy": ["MT19937", torch.arange(624), 624, 0, 0.0],
            "torch": torch.get_rng_state(),
        },
        "extra": {"num_classes": {"global": 3}},
    }
    path = tmp_path / "old.pt"
    torch.save(old, path)
    state = load_checkpoint(path)
    assert set(state) == set(CHECKPOINT_KEYS)
    assert (state["epoch"], state["global_step"]) == (3, 12)
    fresh = build_model("resnet_tiny", 0)
    load_model_state(fresh, state["model"])
    assert fresh.num_classes()["global"] == 3


def test_checkpoint_is_the_weights_alone(tmp_path):
    """No optimizer moments: the file is about the size of the weights, not three times it."""
    model = build_model("resnet_tiny", {"global": 3, "top": 3, "bottom": 0})
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, model=model, epoch=1, global_step=1)
    assert path.stat().st_size < 1.1 * weights.stat().st_size + 4096


def test_failed_save_leaves_no_file(tmp_path):
    model = build_model("resnet_tiny", 0)
    path = tmp_path / "ckpt.pt"
    with pytest.raises(Exception):  # noqa: B017 - pickling a lambda fails
        save_checkpoint(path, model=model, epoch=1, global_step=0, extra={"bad": lambda: 0})
    assert not path.exists() and not list(tmp_path.iterdir())
    save_checkpoint(path, model=model, epoch=1, global_step=0)
    before = path.read_bytes()
    with pytest.raises(Exception):  # noqa: B017 - pickling a lambda fails
        save_checkpoint(path, model=model, epoch=2, global_step=0, extra={"bad": lambda: 0})
    assert path.read_bytes() == before and len(list(tmp_path.iterdir())) == 1


def test_corrupt_or_missing_checkpoint_is_one_line(tmp_path):
    with pytest.raises(SecretError, match="not found"):
        load_checkpoint(tmp_path / "none.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(SecretError, match="cannot be read") as info:
        load_checkpoint(broken)
    assert str(broken) in str(info.value) and "\n" not in str(info.value)
    good = tmp_path / "good.pt"
    save_checkpoint(good, model=build_model("resnet_tiny", 0), epoch=0, global_step=0)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(SecretError, match="cannot be read"):
        load_checkpoint(truncated)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(SecretError, match="not a checkpoint"):
        load_checkpoint(other)


def test_state_of_another_arch_is_one_line_error():
    state = build_model("resnet_tiny", 0).state_dict()
    with pytest.raises(SecretError, match=r"model\.arch"):
        load_model_state(build_model("resnet18", 0), state)


def test_extra_values_become_plain_and_bad_ones_fail_early(tmp_path):
    model = build_model("resnet_tiny", 0)
    path = tmp_path / "ckpt.pt"
    extra = {"eps": np.float64(0.25), "n": {"global": np.int64(3)}, "arr": np.arange(2), "t": (1,)}
    save_checkpoint(path, model=model, epoch=1, global_step=2, extra=extra)
    stored = load_checkpoint(path)["extra"]
    assert stored == {"eps": 0.25, "n": {"global": 3}, "arr": [0, 1], "t": [1]}
    assert type(stored["eps"]) is float and type(stored["n"]["global"]) is int
    other = tmp_path / "other.pt"
    with pytest.raises(SecretError, match=r"extra\['bad'\]\[1\] is a object"):
        save_checkpoint(other, model=model, epoch=1, global_step=2, extra={"bad": [1, object()]})
    assert not other.exists()


def test_save_failing_mid_write_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    model = build_model("resnet_tiny", 0)
    path = tmp_path / "ckpt.pt"
    real_save = torch.save

    def broken_save(obj, target):  # writes half a file, then the disk "fills up"
        real_save(obj, target)
        data = Path(target).read_bytes()
        Path(target).write_bytes(data[: len(data) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, model=model, epoch=1, global_step=0)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(torch, "save", real_save)
    save_checkpoint(path, model=model, epoch=1, global_step=0)
    before = path.read_bytes()
    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, model=model, epoch=2, global_step=9)
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == before


def test_mean_teacher_state_round_trip_resizes_and_stays_frozen():
    torch.manual_seed(0)
    student = build_model("resnet_tiny", 2)
    teacher = MeanTeacher(student)
    teacher.model.set_classifier("bottom", torch.randn(6, 128))
    state = teacher.state_dict()
    fresh = MeanTeacher(build_model("resnet_tiny", 0))
    fresh.load_state_dict(state)
    assert fresh.model.num_classes() == {"global": 2, "top": 2, "bottom": 6}
    assert not any(p.requires_grad for p in fresh.model.parameters())
    for key, value in state.items():
        assert torch.equal(fresh.model.state_dict()[key], value), key
