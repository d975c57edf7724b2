"""The multi-branch SECRET network (ResNet backbone, global and top/bottom local heads)."""

from secret_core.modeling.backbone import ARCHS, fetch_imagenet_weights, imagenet_weights_path
from secret_core.modeling.ghost_bn import GhostBatchNorm1d, GhostBatchNorm2d, convert_ghost_bn
from secret_core.modeling.secret_net import SecretNet, build_model, compute_centroids
from secret_core.modeling.state import load_model_state

__all__ = [
    "ARCHS",
    "GhostBatchNorm1d",
    "GhostBatchNorm2d",
    "SecretNet",
    "build_model",
    "compute_centroids",
    "convert_ghost_bn",
    "fetch_imagenet_weights",
    "imagenet_weights_path",
    "load_model_state",
]
