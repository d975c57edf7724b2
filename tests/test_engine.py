"""Training engine: EMA maths, checkpoints, reproducible epochs, extraction."""

import numpy as np
import pytest
import torch

from secret_core.engine import (
    MeanTeacher,
    build_optimizer,
    extract_features,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
    train_epoch,
)
from secret_core.errors import SecretError
from secret_core.losses import LossConfig
from secret_core.modeling import build_model
from secret_core.seeding import rng_state, seed_everything, set_rng_state


def fake_loader(seed: int, batches: int = 4) -> list[dict]:
    """Two separable identities: bright top vs bright bottom images."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(batches):
        images = torch.randn(8, 3, 32, 16, generator=g) * 0.1
        labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
        images[:4, :, :16] += 2.0
        images[4:, :, 16:] += 2.0
        out.append(
            {
                "images": images,
                "labels": labels[:, None].repeat(1, 3),
                "index": torch.arange(8),
                "camid": torch.zeros(8, dtype=torch.long),
            }
        )
    return out


def test_ema_decay_ramp_on_one_parameter():
    student = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        student.weight.fill_(1.0)
    teacher = MeanTeacher(student, momentum=0.5)
    with torch.no_grad():
        student.weight.fill_(3.0)
    teacher.update(student, global_step=0)  # decay min(1 - 1/1, 0.5) = 0: copy
    assert float(teacher.model.weight) == 3.0
    with torch.no_grad():
        student.weight.fill_(5.0)
    teacher.update(student, global_step=9)  # decay min(0.9, 0.5) = 0.5
    assert float(teacher.model.weight) == pytest.approx(4.0)


def test_checkpoint_round_trip_with_resized_classifiers(tmp_path):
    torch.manual_seed(0)
    model = build_model("resnet_tiny", {"global": 3, "top": 5, "bottom": 0})
    teacher = MeanTeacher(model)
    optimizer = build_optimizer(model)
    path = tmp_path / "ckpt.pt"
    save_checkpoint(
        path,
        model=model,
        teacher=teacher,
        optimizer=optimizer,
        epoch=2,
        global_step=40,
        extra={"eps": 0.5},
    )
    state = load_checkpoint(path)
    assert state["epoch"] == 2 and state["global_step"] == 40 and state["extra"]["eps"] == 0.5
    fresh = build_model("resnet_tiny", 0)
    load_model_state(fresh, state["model"])
    assert fresh.num_classes() == {"global": 3, "top": 5, "bottom": 0}
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)


def test_failed_save_leaves_no_file(tmp_path):
    model = build_model("resnet_tiny", 0)
    path = tmp_path / "ckpt.pt"
    with pytest.raises((AttributeError, TypeError, RuntimeError)):  # a lambda cannot pickle
        save_checkpoint(path, model=model, epoch=1, global_step=0, extra={"bad": lambda: 0})
    assert not path.exists() and not list(tmp_path.iterdir())


def test_corrupt_or_missing_checkpoint_is_one_line(tmp_path):
    with pytest.raises(SecretError, match="not found"):
        load_checkpoint(tmp_path / "none.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(SecretError, match="cannot be read"):
        load_checkpoint(broken)


def run_epoch(seed: int) -> tuple[torch.nn.Module, dict]:
    seed_everything(seed)
    model = build_model("resnet_tiny", 2)
    optimizer = build_optimizer(model, lr=1e-3)
    stats = train_epoch(
        model,
        fake_loader(seed),
        optimizer,
        branches=["global", "top", "bottom"],
        loss_cfg=LossConfig(),
        epoch=1,
        progress=False,
    )
    return model, stats


def test_training_is_bit_reproducible_on_cpu():
    a, stats_a = run_epoch(5)
    b, stats_b = run_epoch(5)
    assert stats_a["losses"] == stats_b["losses"]
    for (key, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), key


def test_loss_decreases_on_separable_problem():
    seed_everything(0)
    model = build_model("resnet_tiny", 2)
    optimizer = build_optimizer(model, lr=2e-3)
    teacher = MeanTeacher(model)
    losses = []
    for epoch in range(1, 5):
        stats = train_epoch(
            model,
            fake_loader(epoch),
            optimizer,
            branches=["global"],
            loss_cfg=LossConfig.mean_teacher(),
            epoch=epoch,
            teacher=teacher,
            global_step_start=(epoch - 1) * 4,
            progress=False,
        )
        losses.append(stats["losses"]["total"])
    assert losses[-1] < losses[0]
    assert stats["global_step_end"] == 16


def test_extract_features_in_order_and_normalised():
    model = build_model("resnet_tiny", 0)
    loader = fake_loader(0, batches=2)
    feats = extract_features(model, loader)
    assert feats["global"].shape == (16, 128) and feats["global"].dtype == np.float32
    assert np.allclose(np.linalg.norm(feats["bottom"], axis=1), 1.0, atol=1e-5)
    single = extract_features(model, loader[1:])
    assert np.allclose(single["top"], feats["top"][8:], atol=1e-6)
    assert model.training  # mode restored


def test_rng_state_round_trip_and_weights_only(tmp_path):
    seed_everything(1)
    state = rng_state()
    first = (np.random.rand(), torch.rand(1).item())
    torch.save(state, tmp_path / "rng.pt")
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (np.random.rand(), torch.rand(1).item()) == first
