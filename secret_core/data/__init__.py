"""Datasets: readers for the real layouts, synthetic domains, P x K sampling and loaders.

The torch-based parts (sampler, transforms, loaders) are imported lazily so that reading a
dataset layout (done by Snakemake while it builds the DAG, and by clustering jobs) does not
pay for importing torch.
"""

from importlib import import_module
from typing import Any

from secret_core.data.readers import LAYOUTS, check_layout, read_dataset, relabel
from secret_core.data.records import Record, ReidDataset
from secret_core.data.synthetic import SyntheticDomainSpec, generate_domain
from secret_core.data.synthetic_styles import DOMAIN_STYLES

_LAZY = {
    "ImageDataset": "secret_core.data.loader",
    "build_eval_loader": "secret_core.data.loader",
    "build_train_loader": "secret_core.data.loader",
    "PKSampler": "secret_core.data.sampler",
    "build_transforms": "secret_core.data.transforms",
    "RandomErasingConfig": "secret_core.data.erasing",
}

__all__ = [
    "DOMAIN_STYLES",
    "LAYOUTS",
    "ImageDataset",
    "PKSampler",
    "RandomErasingConfig",
    "Record",
    "ReidDataset",
    "SyntheticDomainSpec",
    "build_eval_loader",
    "build_train_loader",
    "build_transforms",
    "check_layout",
    "generate_domain",
    "read_dataset",
    "relabel",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'secret_core.data' has no attribute {name!r}")
