"""Datasets: readers for the real layouts, prepared pixels, P x K sampling and loaders
(the synthetic domains of the demo are ``secret_core.synthetic``).

The torch-based parts (sampler, transforms, loaders) are imported lazily so that reading a
dataset layout (done by Snakemake while it builds the DAG, and by clustering jobs) does not
pay for importing torch.
"""

from importlib import import_module
from typing import Any

from secret_core.data.readers import LAYOUTS, check_layout, read_dataset
from secret_core.data.records import Record, ReidDataset

_LAZY = {
    "ImageDataset": "secret_core.data.loader",
    "build_eval_loader": "secret_core.data.loader",
    "build_train_loader": "secret_core.data.loader",
    "PKSampler": "secret_core.data.sampler",
    "build_transforms": "secret_core.data.transforms",
    "RandomErasingConfig": "secret_core.data.erasing",
}

__all__ = [
    "LAYOUTS",
    "ImageDataset",
    "PKSampler",
    "RandomErasingConfig",
    "Record",
    "ReidDataset",
    "build_eval_loader",
    "build_train_loader",
    "build_transforms",
    "check_layout",
    "read_dataset",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'secret_core.data' has no attribute {name!r}")
