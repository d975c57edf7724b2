"""The multi-branch network: shapes, normalised eval features, detached local branch."""

import numpy as np
import pytest
import torch

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.modeling import build_model, compute_centroids, imagenet_weights_path


@pytest.fixture
def net():
    torch.manual_seed(0)
    return build_model("resnet_tiny", {"global": 5, "top": 4, "bottom": 3})


def test_train_outputs(net):
    out = net(torch.randn(6, 3, 32, 16))
    assert set(out) == set(BRANCHES)
    assert out["global"]["feat"].shape == (6, 128)
    assert out["top"]["logits"].shape == (6, 4) and out["bottom"]["logits"].shape == (6, 3)


def test_eval_features_are_normalised(net):
    net.eval()
    out = net(torch.randn(4, 3, 32, 16))
    for branch in BRANCHES:
        assert torch.allclose(out[branch].norm(dim=1), torch.ones(4), atol=1e-5)


def test_top_and_bottom_see_their_halves(net):
    net.eval()
    x = torch.randn(1, 3, 32, 16)
    y = x.clone()
    y[:, :, 24:, :] += 5.0  # change only the lowest quarter of the image
    a, b = net(x), net(y)
    top_change = (a["top"] - b["top"]).norm()
    bottom_change = (a["bottom"] - b["bottom"]).norm()
    assert bottom_change > top_change


def test_detach_local_stops_gradient_into_backbone(net):
    x = torch.randn(4, 3, 32, 16)
    out = net(x, detach_local=True)
    out["top"]["feat"].sum().backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in net.backbone.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.local.parameters())


def test_set_classifier_resizes_and_initialises(net):
    weight = torch.nn.functional.normalize(torch.randn(7, 128), dim=1)
    net.set_classifier("global", weight)
    assert net.num_classes()["global"] == 7
    assert torch.equal(net.heads["global"].classifier.weight, weight)
    net.set_classifier("top", torch.zeros(0, 128))
    assert net(torch.randn(4, 3, 32, 16))["top"]["logits"] is None


def test_centroids_are_normalised_means():
    feats = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [5.0, 5.0]], dtype=np.float32)
    labels = np.array([0, 0, 1, -1])
    c = compute_centroids(feats, labels)
    assert c.shape == (2, 2)
    assert torch.allclose(c[0], torch.tensor([0.7071, 0.7071]), atol=1e-4)
    assert torch.allclose(c[1], torch.tensor([1.0, 0.0]))


def test_resnet50_last_stride_one_map():
    model = build_model("resnet50", 0)
    model.eval()
    fmap = model.backbone(torch.randn(1, 3, 64, 32))
    assert fmap.shape == (1, 2048, 4, 2)  # 1/16 resolution: last stride 1


def test_imagenet_missing_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(SecretError) as info:
        build_model("resnet18", 0, init="imagenet")
    assert str(imagenet_weights_path("resnet18")) in str(info.value)
    assert "resnet18-f37072fd.pth" in str(info.value)


def test_init_from_state_dict_path(tmp_path, net):
    path = tmp_path / "weights.pt"
    torch.save(net.state_dict(), path)
    other = build_model("resnet_tiny", 0, init=str(path))
    for key, value in net.backbone.state_dict().items():
        assert torch.equal(other.backbone.state_dict()[key], value)
    with pytest.raises(SecretError, match="not found"):
        build_model("resnet_tiny", 0, init=str(tmp_path / "missing.pt"))
