"""BN-neck + classifier heads and the local (top/bottom) bottleneck block."""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck

from secret_core.errors import SecretError


class BNNeckHead(nn.Module):
    """BatchNorm1d with a frozen zero bias, then a bias-free linear classifier.

    The frozen bias follows the authors' BNNeck (the BN feature stays centred, which is what
    the cosine-style retrieval after L2 normalisation wants). The classifier is resized every
    target epoch to the number of refined clusters and initialised from their centroids, so
    its size is not fixed at construction.
    """

    def __init__(self, dim: int, num_classes: int = 0) -> None:
        super().__init__()
        self.dim = dim
        self.bn = nn.BatchNorm1d(dim)
        nn.init.constant_(self.bn.weight, 1.0)
        nn.init.constant_(self.bn.bias, 0.0)
        self.bn.bias.requires_grad_(False)
        self.classifier = _linear(dim, num_classes)
        nn.init.normal_(self.classifier.weight, std=0.001)

    @property
    def num_classes(self) -> int:
        return self.classifier.out_features

    def set_classifier(self, weight: torch.Tensor) -> None:
        """Replace the classifier by one with ``weight.shape[0]`` classes and that weight.

        The new layer lives on the BN's device and inherits the old layer's ``requires_grad``,
        so a frozen mean-teacher copy stays frozen after its classifier is re-initialised.
        """
        if weight.dim() != 2 or weight.shape[1] != self.dim:
            raise SecretError(
                f"classifier weight must have shape (classes, {self.dim}), got "
                f"{tuple(weight.shape)}; compute centroids from this model's features"
            )
        trainable = self.classifier.weight.requires_grad
        device = self.bn.weight.device
        layer = _linear(self.dim, int(weight.shape[0])).to(device)
        with torch.no_grad():
            layer.weight.copy_(weight.detach().to(device=device, dtype=layer.weight.dtype))
        layer.weight.requires_grad_(trainable)
        self.classifier = layer


def _linear(dim: int, num_classes: int) -> nn.Linear:
    """A bias-free classifier; zero classes is legal (a branch the variant does not train)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
        return nn.Linear(dim, num_classes, bias=False)


def local_block(dim: int) -> Bottleneck:
    """A ResNet bottleneck (dim -> dim/4 -> dim) with a 1x1 conv + BN shortcut.

    torchvision's Bottleneck expands its width by 4, so width ``dim // 4`` returns to ``dim``;
    the explicit shortcut matches the authors' block even though the channel count is kept.
    The block is new (no ImageNet weights), so its initialisation matters: as the authors',
    convolutions are Kaiming-normal (fan_out, ReLU gain) and BN weight 1, bias 0, instead of
    PyTorch's default Kaiming-uniform with a = sqrt(5), whose variance is 6x smaller.
    """
    if dim % Bottleneck.expansion:
        raise SecretError(f"local block needs a feature dim divisible by 4, got {dim}")
    width = dim // Bottleneck.expansion
    down = nn.Sequential(nn.Conv2d(dim, dim, 1, bias=False), nn.BatchNorm2d(dim))
    block = Bottleneck(dim, width, stride=1, downsample=down)
    for module in block.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return block
