"""The multi-branch network of SECRET: a global branch and a local (top/bottom) branch."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.modeling.backbone import build_backbone
from secret_core.modeling.heads import BNNeckHead, local_block


class SecretNet(nn.Module):
    """ResNet -> layer4 map f.

    Global: GAP(f) -> BN neck -> classifier. Local: a bottleneck block on f, pooled to 2x1
    (top and bottom halves) -> a BN neck and classifier each. Training returns the pre-BN
    features (triplet loss), the BN features and the logits; evaluation returns the three
    L2-normalised BN features (clustering and retrieval).
    """

    def __init__(
        self,
        arch: str,
        num_classes: Mapping[str, int],
        last_stride: int = 1,
        imagenet: bool = False,
    ) -> None:
        super().__init__()
        self.arch = arch
        self.backbone = build_backbone(arch, last_stride, imagenet)
        dim = self.backbone.out_dim
        self.feat_dim = dim
        self.local = local_block(dim)
        self.heads = nn.ModuleDict(
            {b: BNNeckHead(dim, int(num_classes.get(b, 0))) for b in BRANCHES}
        )

    def forward(self, x: torch.Tensor, detach_local: bool = False) -> dict:
        fmap = self.backbone(x)
        global_feat = F.adaptive_avg_pool2d(fmap, 1).flatten(1)
        local_in = fmap.detach() if detach_local else fmap
        parts = F.adaptive_avg_pool2d(self.local(local_in), (2, 1))
        feats = {"global": global_feat, "top": parts[:, :, 0, 0], "bottom": parts[:, :, 1, 0]}
        if not self.training:
            return {b: F.normalize(self.heads[b].bn(feats[b]), dim=1) for b in BRANCHES}
        out = {}
        for branch in BRANCHES:
            head = self.heads[branch]
            bn = head.bn(feats[branch])
            logits = head.classifier(bn) if head.num_classes > 0 else None
            out[branch] = {"feat": feats[branch], "bn": bn, "logits": logits}
        return out

    def set_classifier(self, branch: str, weight: torch.Tensor) -> None:
        """Resize ``branch``'s classifier to ``weight.shape[0]`` classes with that weight."""
        self.heads[branch].set_classifier(weight)

    def num_classes(self) -> dict[str, int]:
        return {b: self.heads[b].num_classes for b in BRANCHES}


def compute_centroids(features: np.ndarray | torch.Tensor, labels: np.ndarray) -> torch.Tensor:
    """L2-normalised mean feature of each label 0..C-1 (-1 ignored): classifier init."""
    feats = torch.as_tensor(np.asarray(features), dtype=torch.float32)
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    keep = labels_t >= 0
    num = int(labels_t[keep].max()) + 1 if keep.any() else 0
    sums = torch.zeros(num, feats.shape[1])
    sums.index_add_(0, labels_t[keep], feats[keep])
    return F.normalize(sums, dim=1)


def build_model(
    arch: str = "resnet50",
    num_classes: int | Mapping[str, int] = 0,
    init: str = "none",
    last_stride: int = 1,
) -> SecretNet:
    """The network with ``init``: ``none``, ``imagenet`` (local torchvision file) or a path."""
    classes = (
        num_classes if isinstance(num_classes, Mapping) else dict.fromkeys(BRANCHES, num_classes)
    )
    init = init or "none"
    model = SecretNet(arch, classes, last_stride, imagenet=init == "imagenet")
    if init not in ("none", "imagenet"):
        path = Path(init).expanduser()
        if not path.is_file():
            raise SecretError(
                f"model.init: state dict {path} not found; give an existing file, none or imagenet"
            )
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("model", state)
        from secret_core.engine.checkpoint import load_model_state

        load_model_state(model, state, strict_backbone=False)
    return model
