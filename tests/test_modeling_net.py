"""The multi-branch network: shapes, normalised eval features, detached local branch,
classifier resizing, centroids and initialisation errors."""

import io

import numpy as np
import pytest
import torch

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.modeling import ARCHS, build_model, compute_centroids
from secret_core.modeling.heads import local_block


@pytest.fixture
def net():
    torch.manual_seed(0)
    return build_model("resnet_tiny", {"global": 5, "top": 4, "bottom": 3})


def test_archs_listed():
    assert ARCHS[0] == "resnet_tiny" and "resnet50" in ARCHS


def test_train_outputs(net):
    out = net(torch.randn(8, 3, 32, 16))
    assert set(out) == set(BRANCHES)
    for branch, classes in zip(BRANCHES, (5, 4, 3), strict=True):
        assert out[branch]["feat"].shape == (8, 128)
        assert out[branch]["bn"].shape == (8, 128)
        assert out[branch]["logits"].shape == (8, classes)


def test_layer4_map_and_bnneck_bias_frozen(net):
    assert net.backbone(torch.randn(8, 3, 32, 16)).shape == (8, 128, 4, 2)  # last stride 1
    for branch in BRANCHES:
        head = net.heads[branch]
        assert not head.bn.bias.requires_grad and float(head.bn.bias.abs().sum()) == 0.0
        assert head.classifier.bias is None


def test_eval_features_are_normalised(net):
    net.eval()
    out = net(torch.randn(8, 3, 32, 16))
    for branch in BRANCHES:
        assert out[branch].shape == (8, 128)
        assert torch.allclose(out[branch].norm(dim=1), torch.ones(8), atol=1e-5)


def test_top_and_bottom_see_their_halves(net):
    net.eval()
    x = torch.randn(8, 3, 32, 16)
    y = x.clone()
    y[:, :, 24:, :] += 5.0  # change only the lowest quarter of the image
    a, b = net(x), net(y)
    assert (a["bottom"] - b["bottom"]).norm() > (a["top"] - b["top"]).norm()


def test_detach_local_stops_gradient_into_backbone(net):
    out = net(torch.randn(8, 3, 32, 16), detach_local=True)
    (out["top"]["feat"].sum() + out["bottom"]["feat"].sum()).backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in net.backbone.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.local.parameters())
    net.zero_grad()
    net(torch.randn(8, 3, 32, 16))["top"]["feat"].sum().backward()  # attached: it reaches
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.backbone.parameters())


def test_set_classifier_resizes_and_initialises(net):
    weight = torch.nn.functional.normalize(torch.randn(7, 128), dim=1)
    net.set_classifier("global", weight)
    assert net.num_classes()["global"] == 7
    assert torch.equal(net.heads["global"].classifier.weight, weight)
    net.set_classifier("top", torch.zeros(0, 128))
    out = net(torch.randn(8, 3, 32, 16))
    assert out["top"]["logits"] is None and out["global"]["logits"].shape == (8, 7)
    with pytest.raises(SecretError, match="shape"):
        net.set_classifier("bottom", torch.zeros(3, 64))
    with pytest.raises(SecretError, match="unknown"):
        net.set_classifier("middle", weight)


def test_set_classifier_keeps_frozen_copy_frozen(net):
    for p in net.parameters():
        p.requires_grad_(False)
    net.set_classifier("top", torch.ones(2, 128))
    assert not net.heads["top"].classifier.weight.requires_grad


def test_zero_classes_and_int_num_classes():
    model = build_model("resnet_tiny", 0)
    assert model.num_classes() == dict.fromkeys(BRANCHES, 0)
    out = model(torch.randn(8, 3, 32, 16))
    assert all(out[b]["logits"] is None for b in BRANCHES)
    assert build_model("resnet_tiny", 6).num_classes() == dict.fromkeys(BRANCHES, 6)


def test_centroids_are_normalised_means():
    feats = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [5.0, 5.0]], dtype=np.float32)
    labels = np.array([0, 0, 1, -1])
    c = compute_centroids(feats, labels)
    assert c.shape == (2, 2) and c.dtype == torch.float32
    assert torch.allclose(c[0], torch.tensor([0.7071, 0.7071]), atol=1e-4)
    assert torch.allclose(c[1], torch.tensor([1.0, 0.0]))
    assert torch.allclose(compute_centroids(torch.from_numpy(feats), labels), c)
    assert compute_centroids(feats, np.full(4, -1)).shape == (0, 2)
    with pytest.raises(SecretError):
        compute_centroids(feats, labels[:3])


def test_resnet50_last_stride_one_and_forward():
    torch.manual_seed(0)
    model = build_model("resnet50", 3)
    assert model.backbone(torch.randn(1, 3, 64, 32)).shape == (1, 2048, 4, 2)
    out = model(torch.randn(2, 3, 64, 32))
    assert out["top"]["feat"].shape == (2, 2048) and out["bottom"]["logits"].shape == (2, 3)
    assert model.local.conv2.out_channels == 512  # authors' width 2048 // 4


def test_unknown_arch_is_one_line_error():
    with pytest.raises(SecretError, match="resnet_tiny"):
        build_model("vgg16", 0)


def test_init_from_state_dict_or_checkpoint(tmp_path, net):
    path = tmp_path / "weights.pt"
    torch.save(net.state_dict(), path)
    other = build_model("resnet_tiny", 0, init=str(path))
    for key, value in net.backbone.state_dict().items():
        assert torch.equal(other.backbone.state_dict()[key], value)
    wrapped = tmp_path / "ckpt.pt"
    torch.save({"model": net.state_dict(), "epoch": 3}, wrapped)
    third = build_model("resnet_tiny", 0, init=str(wrapped))
    assert torch.equal(third.local.conv1.weight, net.local.conv1.weight)
    with pytest.raises(SecretError, match="not found"):
        build_model("resnet_tiny", 0, init=str(tmp_path / "missing.pt"))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"garbage")
    with pytest.raises(SecretError, match=r"broken\.pt"):
        build_model("resnet_tiny", 0, init=str(broken))


def test_init_from_torchvision_and_dataparallel_names(tmp_path):
    from torchvision.models import resnet18

    torch.manual_seed(2)
    reference = resnet18()
    raw = tmp_path / "torchvision.pth"
    torch.save(reference.state_dict(), raw)
    model = build_model("resnet18", 0, init=str(raw))
    assert torch.equal(model.backbone.stem[0].weight, reference.conv1.weight)
    assert torch.equal(model.backbone.stem[1].running_var, reference.bn1.running_var)
    assert torch.equal(model.backbone.layer4[1].conv2.weight, reference.layer4[1].conv2.weight)
    source = build_model("resnet_tiny", 4)
    wrapped = tmp_path / "dp.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, wrapped)
    loaded = build_model("resnet_tiny", 0, init=str(wrapped))
    assert torch.equal(loaded.heads["top"].bn.weight, source.heads["top"].bn.weight)
    assert loaded.num_classes()["top"] == 0  # classes of another label set are never taken
    partial = tmp_path / "partial.pth"
    torch.save({k: v for k, v in source.state_dict().items() if "layer4" not in k}, partial)
    with pytest.raises(SecretError, match=r"lacks \d+ backbone.*partial\.pth"):
        build_model("resnet_tiny", 0, init=str(partial))


class _AuthorsNet(torch.nn.Module):
    """The module names of the authors' SECRET network (their secret/models/resnet.py) around
    a torchvision ResNet-18, so its state dict carries their key names."""

    def __init__(self) -> None:
        from torchvision.models import resnet18
        from torchvision.models.resnet import Bottleneck

        super().__init__()
        r = resnet18()
        self.base = torch.nn.Sequential(
            r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4
        )
        down = torch.nn.Sequential(
            torch.nn.Conv2d(512, 512, 1, bias=False), torch.nn.BatchNorm2d(512)
        )
        self.part_bottleneck = Bottleneck(512, 128, downsample=down)
        for name in ("feat_bn", "partup_feat_bn", "partdown_feat_bn"):
            bn = torch.nn.BatchNorm1d(512)
            torch.nn.init.normal_(bn.running_mean)
            setattr(self, name, bn)
        for name in ("classifier", "classifier_partup", "classifier_partdown"):
            setattr(self, name, torch.nn.Linear(512, 7, bias=False))


def test_init_from_the_authors_checkpoint(tmp_path):
    """A source model saved by the authors' code: DataParallel names, their module names and
    numpy scalars in the metadata (best_top1 comes from their Cython evaluator)."""
    torch.manual_seed(3)
    theirs = _AuthorsNet()
    path = tmp_path / "checkpoint_new.pth.tar"
    state = {f"module.{k}": v for k, v in theirs.state_dict().items()}
    meta = {"epoch": 80, "best_top1": np.float32(0.8), "best_mAP": np.float64(0.6)}
    torch.save({"state_dict": state, **meta}, path)
    ours = build_model("resnet18", 0, init=str(path))
    assert torch.equal(ours.backbone.stem[0].weight, theirs.base[0].weight)
    assert torch.equal(ours.backbone.stem[1].running_var, theirs.base[1].running_var)
    assert torch.equal(ours.backbone.layer4[1].conv2.weight, theirs.base[7][1].conv2.weight)
    assert torch.equal(ours.local.conv3.weight, theirs.part_bottleneck.conv3.weight)
    assert torch.equal(ours.local.downsample[1].weight, theirs.part_bottleneck.downsample[1].weight)
    assert torch.equal(ours.heads["global"].bn.running_mean, theirs.feat_bn.running_mean)
    assert torch.equal(ours.heads["top"].bn.running_mean, theirs.partup_feat_bn.running_mean)
    assert torch.equal(ours.heads["bottom"].bn.running_mean, theirs.partdown_feat_bn.running_mean)
    assert ours.num_classes() == dict.fromkeys(BRANCHES, 0)  # their classes are not taken
    # numpy 1.x, the authors' environment, pickles the scalar under numpy.core's name
    legacy = tmp_path / "numpy1.pth.tar"
    buffer = io.BytesIO()
    torch.save({"state_dict": state, **meta}, buffer, _use_new_zipfile_serialization=False)
    raw = buffer.getvalue()
    assert b"numpy._core.multiarray\nscalar" in raw
    legacy.write_bytes(
        raw.replace(b"numpy._core.multiarray\nscalar", b"numpy.core.multiarray\nscalar")
    )
    again = build_model("resnet18", 0, init=str(legacy))
    assert torch.equal(again.local.conv3.weight, theirs.part_bottleneck.conv3.weight)


def test_local_block_initialised_as_the_authors():
    """Kaiming-normal (fan_out, ReLU gain) convolutions and BN weight 1, bias 0."""
    torch.manual_seed(0)
    block = local_block(512)
    convs = [m for m in block.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 4  # 1x1, 3x3, 1x1 and the 1x1 shortcut
    for conv in convs:
        fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
        expected = (2.0 / fan_out) ** 0.5
        assert float(conv.weight.detach().std()) == pytest.approx(expected, rel=0.03)
        assert abs(float(conv.weight.detach().mean())) < 0.05 * expected  # normal, centred
    bns = [m for m in block.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 4
    for bn in bns:
        assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    net = build_model("resnet_tiny", 0)  # the network uses this block
    conv = net.local.conv2
    fan_out = conv.out_channels * 9
    assert float(conv.weight.detach().std()) == pytest.approx((2.0 / fan_out) ** 0.5, rel=0.1)
