"""Dataset stage: make (synthetic) or locate (real) a dataset, decode it once, summarise it.

Every later stage opens a dataset through its ``summary.json`` (root, layout, statistics and
the prepared pixel array), so the workflow has one file to depend on for real and generated
data alike. Images are decoded, checked and resized here only (see
:mod:`secret_core.data.prepared`); model jobs read the memory-mapped array.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from secret_core.data import Record, ReidDataset, read_dataset
from secret_core.data.prepared import PixelArray, open_split, write_pixels
from secret_core.errors import SecretError
from secret_core.io import read_json, write_json
from secret_core.pipeline.runner import get_logger


def prepare_dataset(
    name: str,
    entry: dict[str, Any],
    data_root: str,
    summary_path: str,
    height: int,
    width: int,
    pixels_path: str,
    manifest_path: str,
    failures_path: str,
    generator: int | None = None,
) -> None:
    """Generate a synthetic domain next to ``summary_path`` or read a real one in place, then
    decode and check every image once into ``pixels_path`` at the model's input size.

    ``generator``: the generator version the job was planned with (its params), checked
    against this checkout's, so that results never pair one generator's params with
    another's images.
    """
    log = get_logger()
    if "synthetic" in entry:
        from secret_core.synthetic import SyntheticDomainSpec, generate_domain
        from secret_core.synthetic.version import GENERATOR_VERSION

        if generator is not None and int(generator) != GENERATOR_VERSION:
            raise SecretError(
                f"dataset {name}: planned with synthetic generator version {generator}, but "
                f"this checkout's is {GENERATOR_VERSION}; rerun snakemake from this checkout"
            )

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
    start = time.perf_counter()
    pixels = write_pixels(
        dataset, int(height), int(width), pixels_path, manifest_path, failures_path
    )
    n = pixels["splits"]["gallery"][1]
    seconds = time.perf_counter() - start
    log.info(
        "%s: %d images decoded and checked at %dx%d in %.1f s", name, n, height, width, seconds
    )
    write_json(
        summary_path,
        {
            "name": name,
            "root": str(Path(dataset.root).resolve()),
            "layout": layout,
            "stats": dataset.stats(),
            "summary": dataset.summary(),
            "pixels": pixels,
        },
    )


def open_dataset(summary_path: str | Path) -> ReidDataset:
    """Re-read the dataset a summary describes (cheap: file names only)."""
    summary = read_json(summary_path)
    return read_dataset(summary["root"], summary["layout"])


def open_pixels(
    summary_path: str | Path, split: str, records: list[Record], height: int, width: int
) -> PixelArray:
    """The prepared pixels of one split, checked against the files on disk (size, mtime)."""
    summary = read_json(summary_path)
    return open_split(summary, summary_path, split, records, height, width)


def split_pixels(
    summary_path: str | Path, dataset: ReidDataset, split: str, model_cfg: dict[str, Any]
) -> PixelArray:
    """The prepared pixels of ``dataset``'s ``split`` at the model's input size."""
    records = getattr(dataset, split)
    return open_pixels(summary_path, split, records, model_cfg["height"], model_cfg["width"])


def train_ground_truth(dataset: ReidDataset) -> np.ndarray:
    """Ground-truth ids of the training images (for label-quality metrics and SUP only)."""
    return np.asarray([r.pid for r in dataset.train], dtype=np.int64)


def train_cameras(dataset: ReidDataset) -> np.ndarray:
    """Camera ids of the training images (for the cross-camera label-quality metrics)."""
    return np.asarray([r.camid for r in dataset.train], dtype=np.int64)
