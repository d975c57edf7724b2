"""Training engine: EMA maths, reproducible epochs, learning on a separable problem,
the mean-teacher loop and feature extraction."""

import numpy as np
import pytest
import torch

from secret_core import BRANCHES
from secret_core.engine import MeanTeacher, build_optimizer, extract_features, train_epoch
from secret_core.engine.ema import teacher_momentum
from secret_core.errors import SecretError
from secret_core.losses import LossConfig
from secret_core.modeling import build_model
from secret_core.seeding import seed_everything


def separable_batches(seed: int, batches: int = 4, ignore_top: bool = False) -> list[dict]:
    """Two identities, bright top vs bright bottom images; loader-style dicts."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(batches):
        images = torch.randn(8, 3, 32, 16, generator=g) * 0.1
        images[:4, :, :16] += 2.0
        images[4:, :, 16:] += 2.0
        labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])[:, None].repeat(1, 3)
        if ignore_top:
            labels[:, 1] = -1
        out.append(
            {
                "images": images,
                "labels": labels,
                "index": torch.arange(8),
                "camid": torch.zeros(8, dtype=torch.long),
            }
        )
    return out


def test_ema_maths_on_one_parameter():
    student = torch.nn.Linear(1, 1, bias=False)
    student.register_buffer("stat", torch.zeros(1))
    with torch.no_grad():
        student.weight.fill_(1.0)
    teacher = MeanTeacher(student, momentum=0.5)
    assert not teacher.model.weight.requires_grad
    with torch.no_grad():
        student.weight.fill_(3.0)
        student.stat.fill_(7.0)
    teacher.update(0)  # decay min(1 - 1/1, 0.5) = 0: a copy of the parameters
    assert teacher.model.weight.item() == 3.0
    assert teacher.model.stat.item() == 0.0  # buffers are the teacher's own, never copied
    with torch.no_grad():
        student.weight.fill_(5.0)
    teacher.update(1)  # decay min(1/2, 0.5) = 0.5
    assert teacher.model.weight.item() == pytest.approx(4.0)
    with torch.no_grad():
        student.weight.fill_(0.0)
    slow = MeanTeacher(student, momentum=0.999)
    with torch.no_grad():
        student.weight.fill_(1.0)
    slow.update(3)  # decay min(0.75, 0.999) = 0.75: 0.75 * 0 + 0.25 * 1
    assert slow.model.weight.item() == pytest.approx(0.25)
    assert slow.decay(10**6) == 0.999


def test_auto_momentum_keeps_the_authors_share_of_the_run():
    # the authors' 80 x 400 iterations: a window of 1,000 iterations, momentum 0.999
    assert teacher_momentum("auto", 80 * 400) == pytest.approx(0.999)
    # the demo's 12 x 44: a window of 528 / 32 = 16.5 iterations
    assert teacher_momentum("auto", 12 * 44) == pytest.approx(1 - 1 / 16.5)
    assert teacher_momentum("auto", 10) == 0.0  # shorter than 32 iterations: no averaging
    assert teacher_momentum(0.99, 12 * 44) == 0.99  # a number is taken as it is
    for bad in ("fast", 1.5, True):
        with pytest.raises(SecretError, match=r"adapt\.momentum"):
            teacher_momentum(bad, 100)


def test_teacher_bn_statistics_are_its_own():
    """The teacher's running mean/var come from the batches it forwarded itself (train mode,
    BN momentum 0.1, unbiased variance), not from the student, whatever the student saw."""
    torch.manual_seed(0)
    student = torch.nn.Sequential(torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    teacher = MeanTeacher(student, momentum=0.9)
    teacher.model.train()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    momentum = student[0].momentum
    mean, var = torch.zeros(3), torch.ones(3)  # BN's initial running statistics
    for step in range(4):
        x = torch.randn(6, 3, generator=g) * 2.0 + 1.0
        student(x * 3.0 - 5.0).sum().backward()  # the student sees other data
        optimizer.step()
        optimizer.zero_grad()
        with torch.no_grad():
            teacher.model(x)
        teacher.update(step)
        mean = (1 - momentum) * mean + momentum * x.mean(0)
        var = (1 - momentum) * var + momentum * x.var(0, unbiased=True)
    bn = teacher.model[0]
    assert torch.allclose(bn.running_mean, mean, atol=1e-6)
    assert torch.allclose(bn.running_var, var, atol=1e-5)
    assert int(bn.num_batches_tracked) == 4
    assert not torch.allclose(student[0].running_mean, mean)


def test_ema_copies_a_resized_classifier():
    torch.manual_seed(0)
    student = build_model("resnet_tiny", 2)
    teacher = MeanTeacher(student)
    student.set_classifier("global", torch.ones(5, 128))
    teacher.update(100)
    assert torch.equal(teacher.model.heads["global"].classifier.weight, torch.ones(5, 128))


def run_epoch(seed: int, teacher: bool = False) -> tuple[torch.nn.Module, dict]:
    seed_everything(seed)
    model = build_model("resnet_tiny", 2)
    mean_teacher = MeanTeacher(model) if teacher else None
    optimizer = build_optimizer(model, lr=1e-3)
    stats = train_epoch(
        model,
        separable_batches(seed, batches=2),
        optimizer,
        branches=BRANCHES,
        loss_cfg=LossConfig.mean_teacher() if teacher else LossConfig(),
        epoch=1,
        teacher=mean_teacher,
        progress=False,
    )
    return model, stats


@pytest.mark.parametrize("teacher", [False, True])
def test_training_is_bit_reproducible_on_cpu(teacher):
    a, stats_a = run_epoch(5, teacher)
    b, stats_b = run_epoch(5, teacher)
    assert stats_a["losses"] == stats_b["losses"]
    for (key, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), key
    c, _ = run_epoch(6, teacher)  # and the seed matters
    assert not torch.equal(a.backbone.stem[0].weight, c.backbone.stem[0].weight)


def test_epoch_stats_and_lr_schedule():
    seed_everything(0)
    model = build_model("resnet_tiny", 2)
    optimizer = build_optimizer(model)
    seen = []

    def lr_fn(iteration: int) -> float:
        seen.append(iteration)
        return 1e-4 * (iteration + 1)

    stats = train_epoch(
        model,
        separable_batches(0, batches=2, ignore_top=True),
        optimizer,
        branches=["global", "top"],
        loss_cfg=LossConfig(),
        epoch=2,
        lr_fn=lr_fn,
        global_step_start=10,
        progress=False,
    )
    assert seen == [0, 1] and optimizer.param_groups[0]["lr"] == pytest.approx(2e-4)
    assert stats["iterations"] == 2 and stats["global_step_end"] == 12
    assert set(stats["accuracy"]) == {"global"}  # top is all -1
    assert stats["losses"]["top_triplet"] == 0.0 and stats["seconds"] > 0


def test_loss_decreases_with_mean_teacher():
    seed_everything(0)
    model = build_model("resnet_tiny", 2)
    optimizer = build_optimizer(model, lr=2e-3)
    teacher = MeanTeacher(model)
    losses, step = [], 0
    for epoch in range(1, 4):
        stats = train_epoch(
            model,
            separable_batches(epoch, batches=3),
            optimizer,
            branches=["global"],
            loss_cfg=LossConfig.mean_teacher(),
            epoch=epoch,
            teacher=teacher,
            global_step_start=step,
            progress=False,
        )
        step = stats["global_step_end"]
        losses.append(stats["losses"]["total"])
    assert losses[-1] < losses[0]
    assert step == 9 and stats["accuracy"]["global"] == 1.0
    assert "global_soft_triplet" in stats["losses"]
    assert not torch.equal(teacher.model.backbone.stem[0].weight, model.backbone.stem[0].weight)


def test_extract_features_in_order_and_normalised():
    torch.manual_seed(0)
    model = build_model("resnet_tiny", 0)
    loader = separable_batches(0, batches=2)
    feats = extract_features(model, loader, device="cpu", amp=True)  # AMP ignored on CPU
    assert set(feats) == set(BRANCHES)
    assert feats["global"].shape == (16, 128) and feats["global"].dtype == np.float32
    for branch in BRANCHES:
        assert np.allclose(np.linalg.norm(feats[branch], axis=1), 1.0, atol=1e-5)
    single = extract_features(model, loader[1:], device="cpu")
    assert np.allclose(single["top"], feats["top"][8:], atol=1e-6)
    assert model.training  # mode restored
    assert extract_features(model, [], device="cpu")["bottom"].shape == (0, 128)


def run_adapt(targets: list | None) -> tuple[torch.nn.Module, dict]:
    seed_everything(3)
    model = build_model("resnet_tiny", 2)
    stats = train_epoch(
        model,
        separable_batches(3, batches=2),
        build_optimizer(model),
        branches=BRANCHES,
        loss_cfg=LossConfig(),
        epoch=1,
        bn_adapt_batches=None if targets is None else iter(targets),
        detach_local=True,
        progress=False,
    )
    return model, stats


def test_bn_adapt_moves_statistics_only():
    """Target batches change BN running statistics but no weight: they get no loss, and in
    train mode a forward normalises with batch statistics, not the running ones."""
    shifted = [b["images"] + 4.0 for b in separable_batches(9, batches=2)]
    plain, stats_plain = run_adapt(None)
    adapted, stats_adapted = run_adapt([{"images": shifted[0]}, shifted[1]])  # dict or tensor
    assert stats_plain["losses"] == stats_adapted["losses"]
    for (name, a), b in zip(plain.named_parameters(), adapted.parameters(), strict=True):
        assert torch.equal(a, b), name
    stem_plain, stem_adapted = plain.backbone.stem[1], adapted.backbone.stem[1]
    assert not torch.equal(stem_plain.running_mean, stem_adapted.running_mean)
    assert int(stem_adapted.num_batches_tracked) == 2 * int(stem_plain.num_batches_tracked)


def test_bn_adapt_running_out_is_one_line_error():
    with pytest.raises(SecretError, match="bn_adapt_batches ran out at iteration 1"):
        run_adapt([torch.zeros(8, 3, 32, 16)])


def test_teacher_starts_as_a_copy_of_the_student():
    """Our teacher starts from the student's weights, local block included (the authors'
    fully unsupervised runs build it with its own random local block: docs/FIDELITY.md)."""
    seed_everything(0)
    student = build_model("resnet_tiny", num_classes=3)
    teacher = MeanTeacher(student, momentum=0.9).model
    pairs = list(zip(student.state_dict().items(), teacher.state_dict().items(), strict=True))
    assert any(name.startswith("local") for (name, _), _ in pairs)
    for (name, mine), (other, theirs) in pairs:
        assert name == other and torch.equal(mine, theirs)
        assert mine.data_ptr() != theirs.data_ptr()  # a copy, not the same tensors
