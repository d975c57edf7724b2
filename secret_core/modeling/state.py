"""Loading weights into a SecretNet whose classifier sizes change every epoch.

Two uses with different strictness: resuming or evaluating our own checkpoint (every key must
fit; classifiers are resized to the stored shapes first) and initialising from a user's file
(a raw torchvision ResNet, a DataParallel ``module.`` state, one of our checkpoints or one of
the authors' SECRET checkpoints: the whole backbone must load, the heads take what fits,
classifiers are never taken).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from secret_core import BRANCHES
from secret_core.errors import SecretError

_TORCHVISION_PREFIXES = {"conv1.": "backbone.stem.0.", "bn1.": "backbone.stem.1."}
# The authors' ResNet (LunarShen/SECRET, secret/models/resnet.py): ``base`` is torchvision's
# conv1, bn1, relu, maxpool, layer1-4 in one Sequential; the local block and the three
# BN-neck heads have their own names. Checked against their network on random weights:
# every key maps, and features, logits and gradients agree exactly.
_AUTHORS_PREFIXES = {
    "base.0.": "backbone.stem.0.",
    "base.1.": "backbone.stem.1.",
    "base.4.": "backbone.layer1.",
    "base.5.": "backbone.layer2.",
    "base.6.": "backbone.layer3.",
    "base.7.": "backbone.layer4.",
    "feat_bn.": "heads.global.bn.",
    "classifier.": "heads.global.classifier.",
    "part_bottleneck.": "local.",
    "partup_feat_bn.": "heads.top.bn.",
    "partdown_feat_bn.": "heads.bottom.bn.",
    "classifier_partup.": "heads.top.classifier.",
    "classifier_partdown.": "heads.bottom.classifier.",
}
_FOREIGN_PREFIXES = {**_TORCHVISION_PREFIXES, **_AUTHORS_PREFIXES}


def unwrap_state(obj: object) -> Mapping[str, torch.Tensor] | None:
    """The state dict inside ``obj``: itself, or its ``model`` / ``state_dict`` entry."""
    if not isinstance(obj, Mapping):
        return None
    for key in ("model", "state_dict"):
        inner = obj.get(key)
        if isinstance(inner, Mapping):
            return inner
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    return None


def normalise_keys(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map DataParallel (``module.``), plain torchvision ResNet and the authors' SECRET names
    onto ours, so a source model trained with their code can start our pipeline."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        name = key.removeprefix("module.")
        for old, new in _FOREIGN_PREFIXES.items():
            if name.startswith(old):
                name = new + name[len(old) :]
                break
        if name.startswith("layer"):
            name = "backbone." + name
        out[name] = value
    return out


def _resize_classifiers(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    for branch in BRANCHES:
        weight = state.get(f"heads.{branch}.classifier.weight")
        if weight is not None:
            model.set_classifier(branch, weight)


def load_model_state(
    model: nn.Module, state: Mapping[str, torch.Tensor], strict: bool = True
) -> None:
    """Load ``state`` into ``model`` (a SecretNet).

    ``strict=True`` (our checkpoints): classifiers are first resized to the stored number of
    classes, then every key must match. ``strict=False`` (``model.init`` files): all backbone
    weights must be present with the right shapes, other keys are taken where they fit, and
    classifiers are skipped because their classes belong to another label set.
    """
    if strict:
        try:  # SecretError (a wrong classifier width) is a RuntimeError too
            _resize_classifiers(model, state)
            model.load_state_dict(state)
        except RuntimeError as exc:
            first = " ".join(str(exc).strip().splitlines()[:2])
            raise SecretError(
                f"checkpoint weights do not fit the configured model ({first}); "
                "check model.arch and last_stride against the run that saved it"
            ) from None
        return
    state = normalise_keys(state)
    own = model.state_dict()
    usable = {
        k: v
        for k, v in state.items()
        if k in own and own[k].shape == v.shape and ".classifier." not in k
    }
    missing = [
        k
        for k in own
        if k.startswith("backbone.") and k not in usable and not k.endswith("num_batches_tracked")
    ]
    if missing:
        raise SecretError(
            f"model.init state dict lacks {len(missing)} backbone weight(s) of "
            f"{getattr(model, 'arch', 'this arch')} (first: {missing[0]}); check model.arch"
        )
    model.load_state_dict(usable, strict=False)
