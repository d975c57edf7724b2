"""Where torchvision's ImageNet files are and come from, without importing torch.

The Snakefile plans the one job that downloads an architecture's weights (``rules/weights.smk``)
and needs that file's path to do so. Every Snakemake process parses the Snakefile, cluster jobs
included, so importing torch there would cost each torch-free job seconds and most of a GiB;
this module therefore mirrors two facts of torch and torchvision, and
``tests/test_modeling_imagenet.py`` checks both against the real thing:

* the URL of each architecture's ``IMAGENET1K_V1`` weights (``ResNet50_Weights`` and co.);
* ``torch.hub.get_dir()``: ``$TORCH_HOME/hub``, else ``$XDG_CACHE_HOME/torch/hub``, else
  ``~/.cache/torch/hub``; files go to its ``checkpoints`` folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from secret_core.errors import SecretError

IMAGENET_URLS: dict[str, str] = {
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet34": "https://download.pytorch.org/models/resnet34-b627a593.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    "resnet101": "https://download.pytorch.org/models/resnet101-63fe2227.pth",
}


def imagenet_url(arch: str) -> str:
    """torchvision's download URL of ``arch``'s ImageNet weights; one line for other archs."""
    try:
        return IMAGENET_URLS[arch]
    except KeyError:
        raise SecretError(
            f"model.init imagenet is not available for {arch}; use none, a state-dict path, "
            f"or one of {', '.join(IMAGENET_URLS)}"
        ) from None


def hub_dir() -> Path:
    """``torch.hub.get_dir()`` as a fresh interpreter computes it (no ``set_dir`` call)."""
    torch_home = os.environ.get("TORCH_HOME")
    if not torch_home:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        torch_home = os.path.join(cache, "torch")
    return Path(os.path.expanduser(torch_home)) / "hub"


def cached_weights_path(arch: str, hub: str | os.PathLike | None = None) -> Path:
    """Where torch's hub cache keeps (or will keep) ``arch``'s ImageNet file."""
    folder = Path(hub) if hub is not None else hub_dir()
    return folder / "checkpoints" / imagenet_url(arch).rsplit("/", 1)[1]


def offline_message(arch: str, path: Path, reason: str) -> str:
    """The one line for a machine that cannot download: what failed, what to fetch, where to."""
    reason = " ".join(reason.split())  # exception texts may span lines
    return (
        f"cannot download the ImageNet weights of {arch} ({reason}); on a machine with "
        f"internet run `wget {imagenet_url(arch)}` and put the file at {path} "
        "(or set model.init to none or to a state-dict path)"
    )


def workflow_inputs(config: Mapping) -> list[str]:
    """The ImageNet file the network-creating jobs of ``config`` read: the cached file of
    ``model.arch`` with ``model.init: imagenet`` (one line for archs without one), else none."""
    model = config["model"]
    if model.get("init", "none") != "imagenet":
        return []
    return [str(cached_weights_path(model["arch"]))]


def arch_of_file(file_name: str) -> str:
    """The architecture whose ImageNet file is called ``file_name`` (the fetch rule's wildcard)."""
    for arch in IMAGENET_URLS:
        if cached_weights_path(arch).name == file_name:
            return arch
    raise SecretError(f"no architecture has the ImageNet file {file_name}; known: {FILE_PATTERN}")


# The fetch rule's wildcard: only torchvision's own file names, so no other path matches it.
FILE_PATTERN = "|".join(re.escape(url.rsplit("/", 1)[1]) for url in IMAGENET_URLS.values())
