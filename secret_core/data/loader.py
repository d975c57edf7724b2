"""Datasets and loaders over records, for training (P x K batches) and for extraction."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from secret_core.data.records import Record
from secret_core.data.sampler import PKSampler
from secret_core.data.transforms import build_transforms
from secret_core.errors import SecretError


def load_image(path: str) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise SecretError(
            f"image {path} is missing; the dataset changed since it was read, "
            "rerun the dataset rule"
        ) from None


class ImageDataset(Dataset):
    """Images of ``records`` with per-branch labels (N x B, -1 = ignored by that branch).

    With ``cache`` decoded images stay in memory: the small synthetic sets are re-read every
    epoch otherwise, and decoding dominates a CPU epoch.
    """

    def __init__(
        self,
        records: Sequence[Record],
        transform,
        labels: np.ndarray | None = None,
        cache: bool = False,
    ) -> None:
        self.records = list(records)
        self.transform = transform
        n = len(self.records)
        self.labels = (
            torch.zeros((n, 3), dtype=torch.long)
            if labels is None
            else torch.as_tensor(np.asarray(labels), dtype=torch.long)
        )
        self.cache: dict[int, Image.Image] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.records)

    def _image(self, index: int) -> Image.Image:
        if self.cache is None:
            return load_image(self.records[index].path)
        if index not in self.cache:
            self.cache[index] = load_image(self.records[index].path)
        return self.cache[index]

    def __getitem__(self, index: int) -> dict:
        return {
            "images": self.transform(self._image(index)),
            "labels": self.labels[index],
            "index": index,
            "camid": self.records[index].camid,
        }


def _seed_worker(worker_id: int) -> None:
    """Workers derive their seeds from the loader's generator, so runs are reproducible."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    import random

    random.seed(seed)


def build_train_loader(
    records: Sequence[Record],
    labels: np.ndarray,
    sample_labels: np.ndarray,
    *,
    height: int,
    width: int,
    batch_size: int,
    num_instances: int,
    iterations: int,
    seed: int,
    num_workers: int = 0,
    random_erasing: float = 0.0,
    flip_p: float = 0.5,
    pad: int = 10,
    cache: bool = True,
) -> DataLoader:
    """P x K batches over ``sample_labels`` (-1 never drawn) with per-branch ``labels``."""
    transform = build_transforms(
        height, width, train=True, flip_p=flip_p, pad=pad, random_erasing=random_erasing
    )
    dataset = ImageDataset(records, transform, labels, cache=cache and num_workers == 0)
    camids = np.array([r.camid for r in records])
    sampler = PKSampler(sample_labels, num_instances, batch_size, iterations, seed, camids)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        drop_last=True,
        worker_init_fn=_seed_worker,
        generator=generator,
        persistent_workers=False,
    )


def build_eval_loader(
    records: Sequence[Record],
    *,
    height: int,
    width: int,
    batch_size: int = 128,
    num_workers: int = 0,
) -> DataLoader:
    """Records in order, without augmentation (feature extraction)."""
    transform = build_transforms(height, width, train=False)
    return DataLoader(
        ImageDataset(records, transform),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
    )
