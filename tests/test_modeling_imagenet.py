"""ImageNet initialisation as torchvision users expect it: downloaded into the torch hub cache
on first use, read from there afterwards, and one line naming the URL and the path when the
machine has no internet. No test touches the network: the download is replaced by a failure
like a machine without internet gives, or by an error if anything tries to download at all."""

from __future__ import annotations

import re
import urllib.error
from pathlib import Path

import pytest
import torch
from torchvision.models import resnet18

from secret_core import imagenet
from secret_core.errors import SecretError
from secret_core.modeling import build_model, fetch_imagenet_weights, imagenet_weights_path
from secret_core.modeling.backbone import TORCHVISION_ARCHS
from secret_core.pipeline.models import fetch_imagenet


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch hub cache of our own (TORCH_HOME, as a user would set it)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub"


def _offline(*args: object, **kwargs: object) -> None:
    raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))


def _no_download(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"tried to download {args}")


def test_torch_free_mirror_agrees_with_torch_and_torchvision(hub, monkeypatch):
    """The Snakefile computes the cached file's path without torch; it must be torch's path."""
    for arch, (_, weights) in TORCHVISION_ARCHS.items():
        assert imagenet.imagenet_url(arch) == weights.url
        assert imagenet.cached_weights_path(arch) == imagenet_weights_path(arch)
    assert imagenet.hub_dir() == hub == Path(torch.hub.get_dir())
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(hub.parent / "xdg"))
    assert imagenet.hub_dir() == Path(torch.hub.get_dir()) == hub.parent / "xdg" / "torch" / "hub"
    assert imagenet.cached_weights_path("resnet50").name == "resnet50-0676ba61.pth"


def test_offline_machine_gets_one_line_with_url_and_path(hub, monkeypatch):
    monkeypatch.setattr(torch.hub, "download_url_to_file", _offline)
    path = hub / "checkpoints" / "resnet50-0676ba61.pth"
    with pytest.raises(SecretError) as info:
        fetch_imagenet_weights("resnet50")
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "https://download.pytorch.org/models/resnet50-0676ba61.pth" in message
    assert "URLError" in message and not path.exists()
    with pytest.raises(SecretError, match=r"resnet18-f37072fd\.pth") as info:
        build_model("resnet18", 0, init="imagenet")  # the library downloads on first use too
    assert "\n" not in str(info.value)


def test_archs_without_imagenet_weights_are_one_line():
    with pytest.raises(SecretError, match="resnet_tiny"):
        build_model("resnet_tiny", 0, init="imagenet")
    with pytest.raises(SecretError, match=r"resnet_tiny.*resnet50"):
        imagenet.cached_weights_path("resnet_tiny")


def test_file_in_the_cache_is_used_without_network(hub, monkeypatch):
    monkeypatch.setattr(torch.hub, "download_url_to_file", _no_download)
    torch.manual_seed(1)
    reference = resnet18()
    path = imagenet.cached_weights_path("resnet18")
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    assert fetch_imagenet_weights("resnet18") == path
    fetch_imagenet("resnet18", str(path))  # the workflow rule's stage: nothing to do
    model = build_model("resnet18", 0, init="imagenet")
    assert torch.equal(model.backbone.layer3[0].conv1.weight, reference.layer3[0].conv1.weight)
    # A workflow job reads the file it was given, wherever that is.
    moved = path.rename(hub.parent / "given.pth")
    model = build_model("resnet18", 0, init="imagenet", imagenet_file=moved)
    assert torch.equal(model.backbone.layer1[0].conv2.weight, reference.layer1[0].conv2.weight)
    with pytest.raises(
        SecretError, match=r"not found at .*missing\.pth.*resnet18-f37072fd"
    ) as info:
        build_model("resnet18", 0, init="imagenet", imagenet_file=hub / "missing.pth")
    assert "\n" not in str(info.value)


def test_broken_cached_file_says_replace_it(hub, monkeypatch):
    monkeypatch.setattr(torch.hub, "download_url_to_file", _no_download)
    path = imagenet.cached_weights_path("resnet18")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"half a download")
    with pytest.raises(SecretError, match=r"cannot be loaded.*download\.pytorch\.org"):
        build_model("resnet18", 0, init="imagenet")


def test_fetch_stage_refuses_a_path_torch_would_not_use(hub, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "download_url_to_file", _no_download)
    path = imagenet.cached_weights_path("resnet18")
    path.parent.mkdir(parents=True)
    torch.save(resnet18().state_dict(), path)
    with pytest.raises(SecretError, match="TORCH_HOME"):
        fetch_imagenet("resnet18", str(tmp_path / "elsewhere.pth"))


def test_workflow_inputs_and_file_names(hub):
    """What rules/weights.smk asks of the torch-free module."""
    assert imagenet.workflow_inputs({"model": {"arch": "resnet50", "init": "none"}}) == []
    paper = {"model": {"arch": "resnet50", "init": "imagenet"}}
    assert imagenet.workflow_inputs(paper) == [str(hub / "checkpoints" / "resnet50-0676ba61.pth")]
    assert imagenet.arch_of_file("resnet101-63fe2227.pth") == "resnet101"
    assert re.fullmatch(imagenet.FILE_PATTERN, "resnet34-b627a593.pth")
    assert not re.fullmatch(imagenet.FILE_PATTERN, "resnet34-b627a593xpth")
    with pytest.raises(SecretError, match="resnet_tiny"):
        imagenet.workflow_inputs({"model": {"arch": "resnet_tiny", "init": "imagenet"}})
