"""The multi-branch network of SECRET: a global branch and a local (top/bottom) branch."""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.modeling.backbone import build_backbone
from secret_core.modeling.ghost_bn import GHOST_SCOPES, convert_ghost_bn
from secret_core.modeling.heads import BNNeckHead, local_block
from secret_core.modeling.state import load_model_state, unwrap_state


class SecretNet(nn.Module):
    """ResNet -> layer4 map f.

    Global: GAP(f) -> BN neck -> classifier. Local: a bottleneck block on f, pooled to 2x1
    (top and bottom halves) -> a BN neck and classifier each. Training returns the pre-BN
    features (triplet loss), the BN features and the logits; evaluation returns the three
    L2-normalised BN features (clustering and retrieval).

    ``ghost_bn_groups`` (e.g. 4) normalises each quarter of a training batch with its own
    statistics, emulating the authors' 4-GPU DataParallel; ``ghost_bn_scope`` says whether
    every BN layer does so (``all``, what DataParallel does) or only the BN necks (``neck``).
    """

    def __init__(
        self,
        arch: str,
        num_classes: Mapping[str, int],
        last_stride: int = 1,
        imagenet: bool = False,
        ghost_bn_groups: int | None = None,
        ghost_bn_scope: str = "all",
        imagenet_file: Path | None = None,
    ) -> None:
        super().__init__()
        unknown = set(num_classes) - set(BRANCHES)
        if unknown:
            raise SecretError(
                f"num_classes has unknown branch(es) {sorted(unknown)}; use {', '.join(BRANCHES)}"
            )
        self.arch = arch
        self.backbone = build_backbone(arch, last_stride, imagenet, imagenet_file)
        dim = self.backbone.out_dim
        self.feat_dim = dim
        self.local = local_block(dim)
        self.heads = nn.ModuleDict(
            {b: BNNeckHead(dim, int(num_classes.get(b, 0))) for b in BRANCHES}
        )
        if ghost_bn_scope not in GHOST_SCOPES:
            raise SecretError(
                f"model.ghost_bn_scope '{ghost_bn_scope}' is unknown; use one of "
                f"{', '.join(GHOST_SCOPES)}"
            )
        self.ghost_bn_groups = ghost_bn_groups
        if ghost_bn_groups is not None:
            convert_ghost_bn(self if ghost_bn_scope == "all" else self.heads, ghost_bn_groups)

    def forward(self, x: torch.Tensor, detach_local: bool = False) -> dict:
        """Train mode: branch -> {feat, bn, logits}; eval mode: branch -> normalised BN feature.

        ``detach_local`` cuts the local block off the backbone's graph: in source pre-training
        the authors let only the global branch shape the backbone.
        """
        fmap = self.backbone(x)
        global_feat = F.adaptive_avg_pool2d(fmap, 1).flatten(1)
        local_in = fmap.detach() if detach_local else fmap
        halves = F.adaptive_avg_pool2d(self.local(local_in), (2, 1))
        feats = {"global": global_feat, "top": halves[:, :, 0, 0], "bottom": halves[:, :, 1, 0]}
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
        if branch not in BRANCHES:
            raise SecretError(f"branch '{branch}' is unknown; use one of {', '.join(BRANCHES)}")
        self.heads[branch].set_classifier(weight)

    def num_classes(self) -> dict[str, int]:
        """Current classifier sizes (they follow the number of refined clusters)."""
        return {b: self.heads[b].num_classes for b in BRANCHES}


def compute_centroids(
    features: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor
) -> torch.Tensor:
    """L2-normalised mean feature of each label 0..C-1 (-1 ignored), on the CPU.

    Used to initialise a branch's classifier each target epoch, so the logits start as
    cosine similarities to the refined clusters instead of random noise.
    """
    feats = torch.as_tensor(features).detach().to("cpu", torch.float32)
    labels_t = torch.as_tensor(np.asarray(labels.cpu() if torch.is_tensor(labels) else labels))
    labels_t = labels_t.to(torch.long).reshape(-1)
    if feats.dim() != 2 or feats.shape[0] != labels_t.shape[0]:
        raise SecretError(
            f"compute_centroids: features {tuple(feats.shape)} and labels "
            f"{tuple(labels_t.shape)} disagree; pass (N, d) features and N labels"
        )
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
    ghost_bn_groups: int | None = None,
    ghost_bn_scope: str = "all",
    imagenet_file: str | Path | None = None,
) -> SecretNet:
    """The network with ``init``: ``none``, ``imagenet`` (torchvision's weights, from
    ``imagenet_file`` when given, else from the torch hub cache, downloaded on first use) or a
    path to a state dict (raw ours, raw torchvision ResNet, DataParallel ``module.`` names, or
    one of our checkpoints, whose student ``model`` is used).

    Workflow jobs pass ``imagenet_file``: the file their local fetch job put in the cache, so
    a compute node reads exactly its declared input and never tries the network.

    ``num_classes`` is one size for all branches or a per-branch dict (missing branches: 0).
    """
    classes = (
        num_classes if isinstance(num_classes, Mapping) else dict.fromkeys(BRANCHES, num_classes)
    )
    init = str(init or "none")
    model = SecretNet(
        arch,
        classes,
        last_stride,
        imagenet=init == "imagenet",
        ghost_bn_groups=ghost_bn_groups,
        ghost_bn_scope=ghost_bn_scope,
        imagenet_file=Path(imagenet_file) if imagenet_file is not None else None,
    )
    if init not in ("none", "imagenet"):
        _init_from_file(model, Path(init).expanduser())
    return model


# Numpy scalars in a checkpoint's metadata: the authors' code stores best_top1 as a float32
# from its Cython evaluator. Allowing the scalar constructor and the dtypes of numbers still
# executes no pickled code; the aliased name is how numpy 1.x (their environment) pickles it.
_NUMPY_SCALAR = (np._core if hasattr(np, "_core") else np.core).multiarray.scalar
_NUMPY_SCALAR_GLOBALS = [
    _NUMPY_SCALAR,
    (_NUMPY_SCALAR, "numpy.core.multiarray.scalar"),
    np.dtype,
    *{type(np.dtype(kind)) for kind in (np.float16, np.float32, np.float64, np.int32, np.int64)},
]


def _init_from_file(model: SecretNet, path: Path) -> None:
    """Initialise from a user's file; the backbone must load completely (see state.py)."""
    if not path.is_file():
        raise SecretError(
            f"model.init: state dict {path} not found; give an existing file, none or imagenet"
        )
    try:
        with torch.serialization.safe_globals(_NUMPY_SCALAR_GLOBALS):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise SecretError(
            f"model.init: {path} cannot be read as a state dict ({type(exc).__name__}); "
            "save it with torch.save(model.state_dict(), path)"
        ) from None
    state = unwrap_state(obj)
    if state is None:
        raise SecretError(f"model.init: {path} holds no state dict; give a state-dict file")
    try:
        load_model_state(model, state, strict=False)
    except SecretError as exc:
        raise SecretError(f"{exc} (file {path})") from None
