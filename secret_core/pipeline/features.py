"""Feature extraction stage: the three L2-normalised features of every target train image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from secret_core.data import Record, build_eval_loader
from secret_core.data.prepared import PixelArray
from secret_core.device import amp_enabled
from secret_core.engine import extract_features
from secret_core.io import save_arrays
from secret_core.pipeline.datasets import open_dataset, split_pixels
from secret_core.pipeline.models import restore, runtime_device
from secret_core.pipeline.runner import get_logger


def features_of(
    model_path: str,
    records: Sequence[Record],
    settings: dict[str, Any],
    use_teacher: bool,
    pixels: PixelArray | None = None,
) -> dict[str, np.ndarray]:
    """Features of ``records`` from a checkpoint (its mean teacher when ``use_teacher``).

    ``pixels``: the records' prepared images (the workflow always passes them); without,
    the images are decoded from their files.
    """
    device = runtime_device(settings)
    model, teacher, _ = restore(settings["model"], model_path, device, with_teacher=use_teacher)
    net = teacher.model if teacher is not None else model
    loader = build_eval_loader(
        records,
        height=settings["model"]["height"],
        width=settings["model"]["width"],
        batch_size=settings["batch_size"],
        num_workers=settings["num_workers"],
        pixels=pixels,
    )
    return extract_features(net, loader, device=device, amp=amp_enabled(device, settings["amp"]))


def extract_train_features(
    model_path: str, data_summary: str, settings: dict[str, Any], out_path: str
) -> None:
    """Write ``features.npz`` (keys global, top, bottom) for this epoch's clustering."""
    dataset = open_dataset(data_summary)
    pixels = split_pixels(data_summary, dataset, "train", settings["model"])
    feats = features_of(model_path, dataset.train, settings, settings["mean_teacher"], pixels)
    get_logger().info("extracted %s", {k: v.shape for k, v in feats.items()})
    save_arrays(out_path, **feats)
