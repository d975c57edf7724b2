"""Source pre-training per task: the target's images adapt BatchNorm statistics only."""

from pathlib import Path

import pytest
import torch

from secret_core.engine import load_checkpoint
from secret_core.pipeline.datasets import prepare_dataset
from secret_core.pipeline.training import pretrain_source

MODEL = {"arch": "resnet_tiny", "init": "none", "height": 32, "width": 16, "last_stride": 1}
PRETRAIN = {
    "epochs": 1,
    "iterations": 3,
    "batch_size": 8,
    "num_instances": 4,
    "lr": 3.5e-4,
    "weight_decay": 5e-4,
    "warmup_epochs": 0,
    "lr_steps": [],
    "loss": {"ce": 1.0, "label_smoothing": 0.1, "triplet": {"kind": "soft_margin", "weight": 1.0}},
}


def domain(tmp: Path, name: str, style: str, seed: int) -> str:
    spec = {
        "style": style,
        "seed": seed,
        "num_ids": 6,
        "num_test_ids": 4,
        "num_cameras": 2,
        "images_per_id_per_camera": 2,
        "height": 32,
        "width": 16,
    }
    folder = tmp / name
    prepare_dataset(
        name,
        {"synthetic": spec},
        "",
        str(folder / "summary.json"),
        height=32,
        width=16,
        pixels_path=str(folder / "pixels.npy"),
        manifest_path=str(folder / "files.npz"),
        failures_path=str(folder / "unreadable.txt"),
    )
    return str(folder / "summary.json")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, dict]:
    """The same source training without and with BN adaptation to a darker target."""
    tmp = tmp_path_factory.mktemp("pretrain")
    source = domain(tmp, "src", "synth_a", 3)
    target = domain(tmp, "tgt", "synth_c", 4)
    out = {}
    for name, bn_summary, bn_domain in (("plain", None, "src"), ("adapted", target, "tgt")):
        settings = {
            "device": "cpu",
            "amp": False,
            "num_workers": 0,
            "model": MODEL,
            "pretrain": PRETRAIN,
            "seed": 1,
            "dataset": "src",
            "bn_domain": bn_domain,
        }
        path = tmp / name / "model.pt"
        pretrain_source(source, settings, str(path), str(tmp / name / "train.json"), bn_summary)
        out[name] = load_checkpoint(path)
    return out


def test_target_bn_changes_running_statistics_only(trained):
    plain, adapted = trained["plain"]["model"], trained["adapted"]["model"]
    stats = [k for k in plain if k.endswith(("running_mean", "running_var"))]
    weights = [k for k in plain if k not in stats and not k.endswith("num_batches_tracked")]
    assert stats and weights
    # the target forward has no loss: the weights follow the source loss alone
    for key in weights:
        assert torch.equal(plain[key], adapted[key]), key
    # ... while BatchNorm has also seen the target domain
    moved = [k for k in stats if not torch.allclose(plain[k], adapted[k])]
    assert len(moved) == len(stats)
    first = "backbone.bn1.running_mean" if "backbone.bn1.running_mean" in plain else stats[0]
    assert not torch.allclose(plain[first], adapted[first])


def test_checkpoint_says_which_domain_its_statistics_describe(trained):
    assert trained["plain"]["extra"]["bn_domain"] == "src"
    assert trained["adapted"]["extra"]["bn_domain"] == "tgt"


class _Stop(Exception):
    pass


def test_model_pad_reaches_the_training_loader(tmp_path, monkeypatch):
    """``model.pad`` sets the padding before the random crop (10 px is the authors' value at
    256x128; a small input needs proportionally less)."""
    import secret_core.pipeline.training as training

    seen = []

    def fake_loader(*args, **kwargs):
        seen.append(kwargs["pad"])
        raise _Stop

    monkeypatch.setattr(training, "build_train_loader", fake_loader)
    source = domain(tmp_path, "src", "synth_a", 3)
    settings = {
        "device": "cpu",
        "amp": False,
        "num_workers": 0,
        "model": {**MODEL, "pad": 3},
        "pretrain": PRETRAIN,
        "seed": 1,
        "dataset": "src",
        "bn_domain": "src",
    }
    with pytest.raises(_Stop):
        pretrain_source(source, settings, str(tmp_path / "m.pt"), str(tmp_path / "t.json"))
    assert seen == [3]


def test_a_passes_budget_sets_the_iterations_from_the_source_size(tmp_path):
    """{passes: P} trains P x N samples over the epochs: 5 passes over the 24 source images
    in 2 epochs of batch 8 is 7.5, so 8 iterations per epoch, as the record shows."""
    from secret_core.io import read_json

    source = domain(tmp_path, "src", "synth_a", 3)
    num_images = read_json(source)["stats"]["train"]["images"]
    assert num_images == 24  # 6 identities x 2 cameras x 2 shots
    settings = {
        "device": "cpu",
        "amp": False,
        "num_workers": 0,
        "model": MODEL,
        "pretrain": {**PRETRAIN, "epochs": 2, "iterations": {"passes": 5}},
        "seed": 1,
        "dataset": "src",
        "bn_domain": "src",
    }
    record = tmp_path / "train.json"
    pretrain_source(source, settings, str(tmp_path / "model.pt"), str(record))
    assert [e["iterations"] for e in read_json(record)["epochs"]] == [8, 8]


def _samplers_built(monkeypatch, rule: str) -> list[tuple[int, str]]:
    """Records (num_instances, the sampler's ``rule``) of every train loader built."""
    from secret_core.pipeline import training

    seen = []
    build = training.build_train_loader

    def recording(*args, **kwargs):
        loader = build(*args, **kwargs)
        seen.append((kwargs["num_instances"], getattr(loader.sampler, rule)))
        return loader

    monkeypatch.setattr(training, "build_train_loader", recording)
    return seen


@pytest.mark.parametrize(
    ("configured", "expected"), [(None, "spread"), ("other_cameras", "other_cameras")]
)
def test_pretrain_positives_reach_the_source_sampler(monkeypatch, tmp_path, configured, expected):
    """``pretrain.positives`` reaches the source batches' sampler (absent: the former rule);
    the target batches that adapt BatchNorm have one image per label and no positives."""
    seen = _samplers_built(monkeypatch, "positives")
    source = domain(tmp_path, "src", "synth_a", 3)
    pretrain = {**PRETRAIN, "positives": configured} if configured else PRETRAIN
    settings = _cpu_settings(pretrain)
    pretrain_source(source, settings, str(tmp_path / "m.pt"), str(tmp_path / "t.json"))
    assert seen == [(4, expected)]


@pytest.mark.parametrize(("configured", "expected"), [(None, "grid"), ("passes", "passes")])
def test_pretrain_batches_reach_both_samplers(monkeypatch, tmp_path, configured, expected):
    """``pretrain.batches`` reaches the source sampler and the target batches that adapt
    BatchNorm (the authors cut both loaders' shuffled passes alike); absent: the former rule."""
    seen = _samplers_built(monkeypatch, "batches")
    source = domain(tmp_path, "src", "synth_a", 3)
    target = domain(tmp_path, "tgt", "synth_b", 3)
    pretrain = {**PRETRAIN, "epochs": 1, **({"batches": configured} if configured else {})}
    settings = {**_cpu_settings(pretrain), "bn_domain": "tgt"}
    pretrain_source(
        source, settings, str(tmp_path / "m.pt"), str(tmp_path / "t.json"), bn_summary=target
    )
    assert seen == [(4, expected), (1, expected)]


@pytest.mark.parametrize(("configured", "expected"), [(None, "iteration"), ("epoch", "epoch")])
def test_pretrain_warmup_per_reaches_the_schedule(monkeypatch, tmp_path, configured, expected):
    """``pretrain.warmup_per`` reaches the lr schedule (absent: the former rule)."""
    pretrain = {**PRETRAIN, "epochs": 1}
    if configured:
        pretrain["warmup_per"] = configured
    seen = _keyword_seen(monkeypatch, tmp_path, "lr_function", "warmup_per", pretrain)
    assert seen == [expected]


@pytest.mark.parametrize(("configured", "expected"), [(None, True), (False, False)])
def test_pretrain_detach_local_reaches_the_training_step(
    monkeypatch, tmp_path, configured, expected
):
    """``pretrain.detach_local`` decides whether the local losses reach the backbone (absent:
    the authors' detached layer4 map)."""
    pretrain = {**PRETRAIN, "detach_local": configured} if configured is not None else PRETRAIN
    seen = _keyword_seen(monkeypatch, tmp_path, "train_epoch", "detach_local", pretrain)
    assert seen == [expected]


def _keyword_seen(monkeypatch, tmp_path: Path, function: str, keyword: str, pretrain: dict) -> list:
    """Pre-train on a small source with ``pretrain`` and return, per call of the training
    module's ``function``, the value it was given as ``keyword``."""
    from secret_core.pipeline import training

    seen = []
    wrapped = getattr(training, function)

    def recording(*args, **kwargs):
        seen.append(kwargs[keyword])
        return wrapped(*args, **kwargs)

    monkeypatch.setattr(training, function, recording)
    source = domain(tmp_path, "src", "synth_a", 3)
    settings = _cpu_settings(pretrain)
    pretrain_source(source, settings, str(tmp_path / "m.pt"), str(tmp_path / "t.json"))
    return seen


def _cpu_settings(pretrain: dict) -> dict:
    """Params of a pretrain_source job on the CPU for ``pretrain`` (source src, seed 1)."""
    return {
        "device": "cpu",
        "amp": False,
        "num_workers": 0,
        "model": MODEL,
        "pretrain": pretrain,
        "seed": 1,
        "dataset": "src",
        "bn_domain": "src",
    }
