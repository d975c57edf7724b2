"""The workflow's model helpers: adapt.momentum reaches the mean teacher, and the finetune
stage builds its teacher, loss and erasing from the configured settings."""

import numpy as np
import pytest
import torch

from secret_core import BRANCHES
from secret_core.engine import save_checkpoint
from secret_core.io import save_arrays
from secret_core.modeling import build_model
from secret_core.pipeline import training
from secret_core.pipeline.models import restore

MODEL_CFG = {"arch": "resnet_tiny", "init": "none", "height": 32, "width": 16}


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model=build_model("resnet_tiny", 2), epoch=0, global_step=0)
    return str(path)


def test_restore_uses_the_configured_momentum(checkpoint):
    _, teacher, _ = restore(MODEL_CFG, checkpoint, torch.device("cpu"), True, momentum=0.9)
    assert teacher.momentum == 0.9 and teacher.decay(10**6) == 0.9
    _, default, _ = restore(MODEL_CFG, checkpoint, torch.device("cpu"), True)
    assert default.momentum == 0.999
    _, none, _ = restore(MODEL_CFG, checkpoint, torch.device("cpu"))
    assert none is None


class _Stop(Exception):
    pass


def _epoch_inputs(tmp_path, refined: dict) -> tuple:
    """An epoch's refined labels and seeded random 128-d features of as many samples."""
    labels, features = tmp_path / "refined.npz", tmp_path / "features.npz"
    save_arrays(labels, **refined)
    num = len(next(iter(refined.values())))
    rng = np.random.default_rng(0)
    save_arrays(features, **{b: rng.normal(size=(num, 128)).astype(np.float32) for b in BRANCHES})
    return labels, features


def _secret_settings() -> dict:
    """Fine-tuning params of a SECRET epoch (one iteration of 8) at the former rules."""
    return {
        "device": "cpu",
        "model": MODEL_CFG,
        "run": {"setting": "uda", "task": "t", "variant": "secret", "seed": 1, "epoch": 1},
        "variant": {"mean_teacher": False, "branches": ["global", "top", "bottom"]},
        "iterations": 1,
        "batch_size": 8,
        "num_instances": 4,
        "lr": 1e-4,
        "weight_decay": 5e-4,
        "lr_steps": [],
        "num_workers": 0,
    }


def _fake_target(monkeypatch, records) -> None:
    """The target dataset of a fine-tuning test: ``records`` as its training split, with no
    prepared array behind them (the loader is faked too, or serves ready tensors)."""
    from types import SimpleNamespace

    monkeypatch.setattr(training, "open_dataset", lambda _: SimpleNamespace(train=records))
    monkeypatch.setattr(training, "split_pixels", lambda *args: None)


@pytest.mark.parametrize(
    ("momentum", "epochs", "expected"),
    [(0.95, None, 0.95), ("auto", 12, 1 - 32 / (12 * 44))],  # 44 = ceil(2 x 700 / 32)
)
def test_finetune_passes_adapt_momentum(
    monkeypatch, checkpoint, tmp_path, momentum, epochs, expected
):
    seen = {}

    def fake_restore(model_cfg, path, device, with_teacher=False, momentum=0.999):
        seen.update(with_teacher=with_teacher, momentum=momentum)
        raise _Stop

    monkeypatch.setattr(training, "restore", fake_restore)
    labels = tmp_path / "refined.npz"
    save_arrays(labels, **{b: np.zeros(700, dtype=np.int64) for b in BRANCHES})
    settings = {
        "device": "cpu",
        "model": MODEL_CFG,
        "run": {"setting": "uda", "task": "t", "variant": "secret_mt", "seed": 1, "epoch": 1},
        "variant": {"mean_teacher": True, "branches": ["global", "top", "bottom"]},
        "iterations": "auto",
        "batch_size": 32,
        "momentum": momentum,
    }
    if epochs is not None:
        settings["epochs"] = epochs
    with pytest.raises(_Stop):
        training.finetune_epoch(checkpoint, "f", str(labels), "d", settings, "o", "r")
    assert seen == {"with_teacher": True, "momentum": pytest.approx(expected)}


@pytest.mark.parametrize(
    ("key", "configured", "expected"),
    [
        ("positives", None, "spread"),
        ("positives", "other_cameras", "other_cameras"),
        ("batches", None, "grid"),
        ("batches", "passes", "passes"),
    ],
)
def test_finetune_passes_adapt_sampler_rules_to_the_sampler(
    monkeypatch, checkpoint, tmp_path, key, configured, expected
):
    """``adapt.positives`` and ``adapt.batches`` (absent from the params at their former
    rules) reach the sampler."""

    from secret_core.data.records import Record

    seen = {}

    def fake_loader(*args, **kwargs):
        seen[key] = kwargs[key]
        raise _Stop

    num = 8
    records = [Record(f"{i}.jpg", i // 4, i % 2) for i in range(num)]
    monkeypatch.setattr(training, "build_train_loader", fake_loader)
    _fake_target(monkeypatch, records)
    labels, features = _epoch_inputs(
        tmp_path, {b: np.arange(num, dtype=np.int64) // 4 for b in BRANCHES}
    )
    settings = _secret_settings()
    if configured:
        settings[key] = configured
    with pytest.raises(_Stop):
        training.finetune_epoch(checkpoint, str(features), str(labels), "d", settings, "o", "r")
    assert seen == {key: expected}


def test_finetune_trains_on_the_prepared_pixels(monkeypatch, checkpoint, tmp_path):
    """Fine-tuning reads the dataset's prepared array, as pre-training and extraction do,
    instead of decoding every image file again at every epoch (same tensors, ~2x the cost)."""

    from secret_core.data.records import Record

    prepared = object()
    seen = {}

    def fake_loader(*args, **kwargs):
        seen["pixels"] = kwargs.get("pixels")
        raise _Stop

    num = 8
    records = [Record(f"{i}.jpg", i // 4, i % 2) for i in range(num)]
    monkeypatch.setattr(training, "build_train_loader", fake_loader)
    _fake_target(monkeypatch, records)
    monkeypatch.setattr(
        training,
        "split_pixels",
        lambda summary, dataset, split, model_cfg: prepared if split == "train" else None,
    )
    labels, features = _epoch_inputs(
        tmp_path, {b: np.arange(num, dtype=np.int64) // 4 for b in BRANCHES}
    )
    with pytest.raises(_Stop):
        training.finetune_epoch(
            checkpoint, str(features), str(labels), "d", _secret_settings(), "o", "r"
        )
    assert seen["pixels"] is prepared


@pytest.mark.parametrize(("configured", "expected"), [(None, [2, 2, 2]), ("branch", [3, 2, 3])])
def test_finetune_sizes_classifiers_by_adapt_classes(
    monkeypatch, checkpoint, tmp_path, configured, expected
):
    """``adapt.classes: branch`` (the authors') gives each branch a class for every cluster it
    keeps, trained or not; the former rule (absent from the params) only the trained ones."""

    from secret_core.data.records import Record

    sizes = []
    original = training.compute_centroids

    def recording_centroids(features, labels):
        out = original(features, labels)
        sizes.append(int(out.shape[0]))
        return out

    def fake_loader(*args, **kwargs):
        raise _Stop

    num = 12
    records = [Record(f"{i}.jpg", i // 4, i % 2) for i in range(num)]
    monkeypatch.setattr(training, "compute_centroids", recording_centroids)
    monkeypatch.setattr(training, "build_train_loader", fake_loader)
    _fake_target(monkeypatch, records)
    groups = np.arange(num, dtype=np.int64) // 4  # three clusters of four in every branch
    top = groups.copy()
    top[8:] = -1  # top drops the third cluster: it trains nowhere, global and bottom keep it
    labels, features = _epoch_inputs(tmp_path, {"global": groups, "top": top, "bottom": groups})
    settings = _secret_settings()
    if configured:
        settings["classes"] = configured
    with pytest.raises(_Stop):
        training.finetune_epoch(checkpoint, str(features), str(labels), "d", settings, "o", "r")
    assert sizes == expected


def test_concat_classifier_starts_as_one_normalised_classifier():
    """naive SECRET's three classifiers act as one on the concatenation, so they start from
    its centroids normalised as a whole (rows of norm 1 over the three blocks), not from three
    unit-norm blocks; a per-branch variant keeps one unit-norm centroid per branch.

    By hand: class 0 holds two images, global [1, 0] and [0, 1], top [0, 1] twice, bottom
    [1, 0] twice; their concatenations sum to [1, 1, 0, 2, 2, 0], of norm sqrt(10).
    """
    feats = {
        "global": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32),
        "top": np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32),
        "bottom": np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32),
    }
    classes = np.repeat(np.array([[0], [0], [1]], dtype=np.int64), 3, axis=1)
    naive = {"branches": list(BRANCHES), "loss_on": "concat"}
    weights = training.classifier_weights(feats, classes, naive)
    row0 = torch.cat([weights[b][0] for b in BRANCHES])
    expected = torch.tensor([1.0, 1.0, 0.0, 2.0, 2.0, 0.0]) / np.sqrt(10.0)
    assert torch.allclose(row0, expected, atol=1e-6)
    assert torch.allclose(
        torch.cat([weights[b] for b in BRANCHES], dim=1).norm(dim=1), torch.ones(2)
    )

    per_branch = training.classifier_weights(feats, classes, {"branches": ["global", "top"]})
    assert torch.allclose(per_branch["global"][0], torch.tensor([1.0, 1.0]) / np.sqrt(2.0))
    assert torch.allclose(per_branch["top"].norm(dim=1), torch.ones(2))
    assert per_branch["bottom"].shape == (0, 2)


@pytest.mark.parametrize("rule", [None, "fresh", "carry"])
def test_finetune_carries_adam_moments_only_when_configured(
    monkeypatch, checkpoint, tmp_path, rule
):
    """``adapt.optimizer_state: carry`` stores the epoch's Adam moments (no classifier's) in
    its checkpoint and the next epoch starts from them; ``fresh`` (the authors', and the rule
    when the params leave the key out) stores none, so every epoch builds a new Adam."""

    from secret_core.data.records import Record
    from secret_core.engine import load_checkpoint

    num = 8
    records = [Record(f"{i}.jpg", i // 4, i % 2) for i in range(num)]
    groups = torch.arange(num) // 4
    batch = {"images": torch.randn(num, 3, 32, 16), "labels": groups[:, None].repeat(1, 3)}
    monkeypatch.setattr(training, "build_train_loader", lambda *a, **k: [batch])
    _fake_target(monkeypatch, records)
    restored = []
    original = training.restore_adam_moments

    def counting(optimizer, model, moments):
        restored.append(original(optimizer, model, moments))
        return restored[-1]

    monkeypatch.setattr(training, "restore_adam_moments", counting)
    labels, features = _epoch_inputs(tmp_path, {b: groups.numpy() for b in BRANCHES})
    previous = checkpoint
    for epoch in (1, 2):
        settings = _secret_settings()
        settings["run"]["epoch"] = epoch
        settings["amp"] = False
        if rule:
            settings["optimizer_state"] = rule
        out = str(tmp_path / f"epoch{epoch}.pt")
        training.finetune_epoch(
            previous, str(features), str(labels), "d", settings, out, str(tmp_path / "r.json")
        )
        previous = out
    moments = load_checkpoint(previous)["adam_moments"]
    if rule != "carry":
        assert moments is None and restored == []
        return
    trained = {n for n, p in build_model("resnet_tiny", 2).named_parameters() if p.requires_grad}
    assert set(moments) == {n for n in trained if ".classifier." not in n}
    assert all(int(entry["step"]) == 2 for entry in moments.values())  # epoch 1's, then 2's
    assert restored == [len(moments)]  # epoch 1 starts fresh: the start model holds none


def test_unknown_optimizer_state_is_one_line():
    from secret_core.errors import SecretError

    assert training.carries_adam_moments({}) is False  # params leave out the authors' rule
    assert training.carries_adam_moments({"optimizer_state": "carry"}) is True
    with pytest.raises(SecretError, match=r"adapt\.optimizer_state must be one of fresh, carry"):
        training.carries_adam_moments({"optimizer_state": "keep"})


def _finetune_warnings(
    monkeypatch, checkpoint, tmp_path, caplog, num, iterations, loader_calls=None, **extra
) -> list:
    """The warnings ``finetune_epoch`` logs before training ``num`` target images refined into
    labels of 4, over ``iterations`` batches of 32 (the loader stops the epoch there, after
    appending its keyword arguments to ``loader_calls``); ``extra`` adds adapt settings."""
    from secret_core.data.records import Record

    def fake_loader(*args, **kwargs):
        if loader_calls is not None:
            loader_calls.append(kwargs)
        raise _Stop

    records = [Record(f"{i}.jpg", i // 4, i % 2) for i in range(num)]
    monkeypatch.setattr(training, "build_train_loader", fake_loader)
    _fake_target(monkeypatch, records)
    refined = np.arange(num, dtype=np.int64) // 4
    labels, features = _epoch_inputs(tmp_path, {b: refined for b in BRANCHES})
    settings = {**_secret_settings(), "batch_size": 32, "iterations": iterations, **extra}
    with caplog.at_level("INFO"), pytest.raises(_Stop):
        training.finetune_epoch(checkpoint, str(features), str(labels), "d", settings, "o", "r")
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


@pytest.mark.parametrize(("groups", "warned"), [(2, True), (8, False)])
def test_finetune_warns_when_the_training_set_cannot_fill_a_batch(
    monkeypatch, checkpoint, tmp_path, caplog, groups, warned
):
    """A batch of 32 holds P = 8 labels of 4: a training set of 2 labels makes every batch
    repeat the same few images (the log says so, naming the counts); 8 labels fill one."""
    messages = _finetune_warnings(monkeypatch, checkpoint, tmp_path, caplog, 4 * groups, 5)
    expected = "epoch 1: the training set has 8 samples in 2 labels, fewer than the 8 labels"
    assert [m.startswith(expected) for m in messages] == ([True] if warned else [])
    if warned:
        assert "5 iterations repeat them" in messages[0]


@pytest.mark.parametrize(("iterations", "warned"), [(60, True), (50, False)])
def test_finetune_warns_when_each_training_image_is_drawn_too_often(
    monkeypatch, checkpoint, tmp_path, caplog, iterations, warned
):
    """32 samples in 8 labels fill a batch, but 60 iterations of 32 draw each one 60 times,
    past the 50 above which weak-start runs lost their start model's mAP; 50 draws do not
    warn."""
    messages = _finetune_warnings(monkeypatch, checkpoint, tmp_path, caplog, 32, iterations)
    expected = f"epoch 1: {iterations} iterations of 32 draw each of the 32 training samples "
    expected += f"{iterations} times"
    assert [m.startswith(expected) for m in messages] == ([True] if warned else [])


@pytest.mark.parametrize(("cap", "trained_iterations"), [(20, 20), (None, 60), (80, 60)])
def test_draws_cap_shortens_the_epoch_it_would_warn_about(
    monkeypatch, checkpoint, tmp_path, caplog, cap, trained_iterations
):
    """adapt.max_draws_per_image: 60 iterations of 32 over 32 samples draw each 60 times; a
    cap of 20 trains ceil(20 x 32 / 32) = 20 iterations, the log names both counts, and the
    draws warning no longer fires. No cap (the authors'), or one above 60, trains all 60."""
    calls: list = []
    messages = _finetune_warnings(
        monkeypatch, checkpoint, tmp_path, caplog, 32, 60, calls, max_draws_per_image=cap
    )
    assert [call["iterations"] for call in calls] == [trained_iterations]
    assert bool(messages) == (trained_iterations == 60)
    capped = [
        r.getMessage() for r in caplog.records if "adapt.max_draws_per_image)" in r.getMessage()
    ]
    assert len(capped) == (trained_iterations < 60)
    if capped:
        assert "20 iterations (of 60: adapt.max_draws_per_image)" in capped[0]
