"""BN-neck + classifier heads and the local (top/bottom) bottleneck block."""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck


class BNNeckHead(nn.Module):
    """BatchNorm1d with a frozen zero bias, then a bias-free linear classifier.

    The classifier is resized every target epoch to the number of refined clusters and
    initialised from their centroids, so its size is not fixed at construction.
    """

    def __init__(self, dim: int, num_classes: int = 0) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(dim)
        self.bn.bias.requires_grad_(False)
        nn.init.constant_(self.bn.weight, 1.0)
        nn.init.constant_(self.bn.bias, 0.0)
        self.classifier = _linear(dim, num_classes)
        nn.init.normal_(self.classifier.weight, std=0.001)

    @property
    def num_classes(self) -> int:
        return self.classifier.out_features

    def set_classifier(self, weight: torch.Tensor) -> None:
        """Replace the classifier by one with ``weight.shape[0]`` classes and that weight."""
        num, dim = weight.shape
        device = self.bn.weight.device
        self.classifier = _linear(dim, num).to(device)
        with torch.no_grad():
            self.classifier.weight.copy_(weight.to(device=device, dtype=torch.float32))


def _linear(dim: int, num_classes: int) -> nn.Linear:
    """A bias-free classifier; zero classes is legal (a branch the variant does not train)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
        return nn.Linear(dim, num_classes, bias=False)


def local_block(dim: int) -> Bottleneck:
    """A ResNet bottleneck (dim -> dim/4 -> dim) with a 1x1 conv + BN shortcut."""
    width = max(dim // 4, 1)
    down = nn.Sequential(nn.Conv2d(dim, dim, 1, bias=False), nn.BatchNorm2d(dim))
    block = Bottleneck(dim, width, stride=1, downsample=down)
    # torchvision's Bottleneck expands by 4: width * 4 == dim keeps the output at ``dim``
    return block
