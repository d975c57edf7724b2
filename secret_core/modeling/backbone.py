"""ResNet backbones with last stride 1, and a tiny ResNet for CPU demos and tests."""

from __future__ import annotations

import pickle
import sys
import zipfile
from http.client import HTTPException
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet

from secret_core.errors import SecretError
from secret_core.imagenet import cached_weights_path, imagenet_url, offline_message

TORCHVISION_ARCHS = {
    "resnet18": (resnet.resnet18, resnet.ResNet18_Weights.IMAGENET1K_V1),
    "resnet34": (resnet.resnet34, resnet.ResNet34_Weights.IMAGENET1K_V1),
    "resnet50": (resnet.resnet50, resnet.ResNet50_Weights.IMAGENET1K_V1),
    "resnet101": (resnet.resnet101, resnet.ResNet101_Weights.IMAGENET1K_V1),
}
ARCHS: tuple[str, ...] = ("resnet_tiny", *TORCHVISION_ARCHS)
TINY_WIDTHS = (16, 32, 64, 128)


class Backbone(nn.Module):
    """stem + layer1..4 of a ResNet; ``out_dim`` channels in the layer4 map."""

    def __init__(self, stem: nn.Module, layers: list[nn.Module], out_dim: int) -> None:
        super().__init__()
        self.stem = stem
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def _tiny_stage(in_ch: int, out_ch: int, stride: int) -> nn.Sequential:
    down = None
    if stride != 1 or in_ch != out_ch:
        down = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch)
        )
    return nn.Sequential(resnet.BasicBlock(in_ch, out_ch, stride, down))


def tiny_backbone(last_stride: int = 1, widths: tuple[int, ...] = TINY_WIDTHS) -> Backbone:
    """One BasicBlock per stage with narrow widths: the ResNet topology at ~1% of the cost,
    so the whole pipeline runs on a 2-core CPU in minutes (about 25 ms for a forward and
    backward pass of 32 images of 64x32 on the development machine).

    The stem is a single stride-2 3x3 conv without max pooling: small inputs keep enough
    resolution for the top/bottom split (a 64x32 image gives an 8x4 layer4 map).
    """
    stem = nn.Sequential(
        nn.Conv2d(3, widths[0], 3, 2, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(True)
    )
    strides = (1, 2, 2, last_stride)
    layers, in_ch = [], widths[0]
    for width, stride in zip(widths, strides, strict=True):
        layers.append(_tiny_stage(in_ch, width, stride))
        in_ch = width
    net = Backbone(stem, layers, widths[-1])
    for module in net.modules():  # torchvision's ResNet initialisation, which BasicBlock lacks
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return net


def imagenet_weights_path(arch: str) -> Path:
    """Where torchvision keeps (or will download) the ImageNet file of ``arch``: the torch hub
    cache, ``torch.hub.get_dir()/checkpoints/<file name of the weights URL>``."""
    if arch not in TORCHVISION_ARCHS:
        raise SecretError(f"model.init imagenet is not available for {arch}; use none")
    return cached_weights_path(arch, torch.hub.get_dir())


def fetch_imagenet_weights(arch: str, progress: bool | None = None) -> Path:
    """The ImageNet file of ``arch`` in the torch hub cache, downloaded if it is not there.

    torchvision's weights API does the download (``ResNet50_Weights.IMAGENET1K_V1`` and co.,
    hash-checked, written under a temporary name and then moved, so an interrupted download
    leaves no half file). The workflow calls this in one local job per architecture on the
    submitting machine; compute nodes without internet then only read the file. Without
    internet the error is one line naming the URL and the path to put the file at. The
    progress bar is drawn only on a terminal (a log file would get every refresh).
    """
    path = imagenet_weights_path(arch)
    if path.is_file():
        return path
    weights = TORCHVISION_ARCHS[arch][1]
    if progress is None:
        progress = sys.stderr.isatty()
    try:
        weights.get_state_dict(progress=progress, check_hash=True)
    except (OSError, HTTPException, RuntimeError) as exc:  # URLError is an OSError
        raise SecretError(offline_message(arch, path, f"{type(exc).__name__}: {exc}")) from None
    return path


def _load_imagenet(net: nn.Module, arch: str, path: Path | None = None) -> None:
    """Load ``arch``'s ImageNet weights into the torchvision ``net``: from ``path`` (the file a
    workflow job was given as input), else from the hub cache, downloading on first use as
    torchvision itself does."""
    if path is None:
        path = fetch_imagenet_weights(arch)
    elif not path.is_file():
        raise SecretError(
            f"ImageNet weights for {arch} not found at {path}: put torchvision's "
            f"{imagenet_url(arch)} there (or set model.init to none or to a state-dict path)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except (  # what torch.load and a wrong state dict raise for a truncated or foreign file
        RuntimeError,
        EOFError,
        KeyError,
        ValueError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
    ) as exc:
        raise SecretError(
            f"ImageNet weights {path} cannot be loaded ({type(exc).__name__}); "
            f"replace it with torchvision's {imagenet_url(arch)}"
        ) from None


def torchvision_backbone(
    arch: str, last_stride: int = 1, imagenet: bool = False, imagenet_file: Path | None = None
) -> Backbone:
    """A torchvision ResNet without its head; last stride 1 as in the authors' code.

    ``imagenet`` loads the ImageNet weights: from ``imagenet_file`` when given, else from the
    torch hub cache (downloaded on first use).
    """
    builder, _ = TORCHVISION_ARCHS[arch]
    net = builder(weights=None)
    if imagenet:
        _load_imagenet(net, arch, imagenet_file)
    if last_stride == 1:  # keep layer4 at 1/16 resolution (16x8 at 256x128)
        block = net.layer4[0]
        strided_conv = block.conv2 if isinstance(block, resnet.Bottleneck) else block.conv1
        strided_conv.stride = (1, 1)
        block.downsample[0].stride = (1, 1)
    stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
    out_dim = net.fc.in_features
    return Backbone(stem, [net.layer1, net.layer2, net.layer3, net.layer4], out_dim)


def build_backbone(
    arch: str, last_stride: int = 1, imagenet: bool = False, imagenet_file: Path | None = None
) -> Backbone:
    """The configured backbone; unknown names and impossible inits are one-line errors."""
    if last_stride not in (1, 2):
        raise SecretError(f"model.last_stride must be 1 or 2, got {last_stride}")
    if arch == "resnet_tiny":
        if imagenet:
            raise SecretError("model.init imagenet is not available for resnet_tiny; use none")
        return tiny_backbone(last_stride)
    if arch not in TORCHVISION_ARCHS:
        raise SecretError(f"model.arch '{arch}' is unknown; use one of {', '.join(ARCHS)}")
    return torchvision_backbone(arch, last_stride, imagenet, imagenet_file)
