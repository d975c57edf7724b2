"""Dataset stage: make (synthetic) or locate (real) a dataset and write its summary.

Every later stage opens a dataset through its ``summary.json`` (root, layout, statistics), so
the workflow has one file to depend on for real and generated data alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from secret_core.data import ReidDataset, read_dataset
from secret_core.io import read_json, write_json
from secret_core.pipeline.runner import get_logger


def prepare_dataset(name: str, entry: dict[str, Any], data_root: str, summary_path: str) -> None:
    """Generate a synthetic domain next to ``summary_path`` or read a real one in place."""
    log = get_logger()
    if "synthetic" in entry:
        from secret_core.data import SyntheticDomainSpec, generate_domain

        spec = SyntheticDomainSpec(name=name, **entry["synthetic"])
        root = Path(summary_path).parent / "images"
        dataset = generate_domain(spec, root)
        layout = dataset.layout
    else:
        root = Path(entry["path"]).expanduser()
        if not root.is_absolute() and data_root:
            root = Path(data_root).expanduser() / root
        dataset = read_dataset(root, entry.get("layout", "auto"))
        layout = dataset.layout
    log.info("%s: %s", name, dataset.summary())
    write_json(
        summary_path,
        {
            "name": name,
            "root": str(Path(dataset.root).resolve()),
            "layout": layout,
            "stats": dataset.stats(),
            "summary": dataset.summary(),
        },
    )


def open_dataset(summary_path: str | Path) -> ReidDataset:
    """Re-read the dataset a summary describes (cheap: file names only)."""
    summary = read_json(summary_path)
    return read_dataset(summary["root"], summary["layout"])


def train_ground_truth(dataset: ReidDataset) -> np.ndarray:
    """Ground-truth ids of the training images (for label-quality metrics and SUP only)."""
    return np.asarray([r.pid for r in dataset.train], dtype=np.int64)
