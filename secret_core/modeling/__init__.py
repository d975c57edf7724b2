"""The multi-branch SECRET network (ResNet backbone, global and top/bottom local heads)."""

from secret_core.modeling.backbone import ARCHS, imagenet_weights_path
from secret_core.modeling.secret_net import SecretNet, build_model, compute_centroids

__all__ = ["ARCHS", "SecretNet", "build_model", "compute_centroids", "imagenet_weights_path"]
