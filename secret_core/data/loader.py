"""Datasets and loaders over records: P x K training batches and ordered extraction.

Reproducibility: augmentation draws from a torch random state private to each dataset copy
(seeded from the loader's seed and the worker id, reset at the start of every pass), swapped
in around each transform. Like the P x K sampler, every pass over a training loader is thus
a function of its seed and worker count alone (the stages build one loader per epoch with a
derived seed), and the data pipeline never consumes the global torch generator that the
model (dropout, init) draws from.

Pixels: the workflow's jobs pass the dataset's prepared array (``pixels``, decoded and
resized once by the dataset rule, see :mod:`secret_core.data.prepared`); without it images
are decoded from their files, as for library users with a folder of JPEGs. Both give
identical tensors.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset

from secret_core import BRANCHES
from secret_core.data.erasing import RandomErasingConfig
from secret_core.data.positives import DEFAULT_BATCHES, DEFAULT_POSITIVES
from secret_core.data.records import Record
from secret_core.data.sampler import PKSampler
from secret_core.data.transforms import (
    AUTHORS_PAD,
    build_transforms,
    prepared_batch_transform,
)
from secret_core.errors import SecretError

if TYPE_CHECKING:
    from secret_core.data.prepared import PixelArray


def load_image(path: str) -> Image.Image:
    """Decode one image as RGB; a missing or unreadable file is a one-line SecretError."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise SecretError(
            f"image {path} is missing; the dataset changed since it was read, "
            "rerun the dataset rule"
        ) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise SecretError(f"image {path} cannot be decoded ({exc}); replace or remove it") from None


def _check_pixel_count(pixels: PixelArray | np.ndarray, num_records: int) -> None:
    if len(pixels) != num_records:
        raise SecretError(
            f"the prepared pixel array has {len(pixels)} images for {num_records} "
            "records; rerun the dataset rule"
        )


def _label_matrix(labels: np.ndarray | None, n: int) -> torch.Tensor:
    if labels is None:
        return torch.full((n, len(BRANCHES)), -1, dtype=torch.long)
    array = np.asarray(labels)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != n:
        raise SecretError(
            f"labels have shape {array.shape} but there are {n} records; pass an "
            "(N, n_branches) array with one row per record"
        )
    return torch.as_tensor(array.astype(np.int64))


class ImageDataset(Dataset):
    """Images of ``records`` with per-branch labels (N x B ints, -1 = ignored by that branch).

    Items are dicts: ``images`` FloatTensor[3, H, W], ``labels`` LongTensor[B], ``index``
    (position in ``records``) and ``camid``. With ``pixels`` (one uint8 image per record,
    already at the model size) images come from that array and ``transform`` must be built
    with ``prepared=True``; without it they are decoded from the records' files. With
    ``seed`` the transform draws from a private random state (see the module docstring);
    without it, from torch's global one.
    """

    def __init__(
        self,
        records: Sequence[Record],
        transform: Any,
        labels: np.ndarray | None = None,
        seed: int | None = None,
        pixels: PixelArray | np.ndarray | None = None,
    ) -> None:
        self.records = list(records)
        self.transform = transform
        self.labels = _label_matrix(labels, len(self.records))
        self.seed = seed
        if pixels is not None:
            _check_pixel_count(pixels, len(self.records))
        self.pixels = pixels
        self._rng_state: torch.Tensor | None = None
        self._rng_owner: tuple[int, int] | None = None

    def reset_rng(self) -> None:
        """Restart the private augmentation stream (called at the start of every pass)."""
        self._rng_state = self._rng_owner = None

    def __len__(self) -> int:
        return len(self.records)

    def _image(self, index: int) -> Image.Image | np.ndarray:
        if self.pixels is not None:
            return self.pixels[index]
        return load_image(self.records[index].path)

    def _transform(self, image: Image.Image | np.ndarray) -> torch.Tensor:
        if self.seed is None:
            return self.transform(image)
        info = torch.utils.data.get_worker_info()
        owner = (os.getpid(), 0 if info is None else info.id + 1)
        if self._rng_state is None or self._rng_owner != owner:  # first use in this process
            seed = (self.seed * 1009 + owner[1]) % 2**63
            self._rng_state = torch.Generator().manual_seed(seed).get_state()
            self._rng_owner = owner
        outer = torch.get_rng_state()
        torch.set_rng_state(self._rng_state)
        try:
            return self.transform(image)
        finally:
            self._rng_state = torch.get_rng_state()
            torch.set_rng_state(outer)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {
            "images": self._transform(self._image(index)),
            "labels": self.labels[index],
            "index": index,
            "camid": self.records[index].camid,
        }


class _PassSeededLoader(DataLoader):
    """A DataLoader that restarts its dataset's augmentation stream at every pass, so that
    two passes are identical, as they are for the sampler and for worker processes."""

    def __iter__(self):
        self.dataset.reset_rng()
        return super().__iter__()


def _seed_worker(worker_id: int) -> None:
    """Seed numpy and ``random`` in a worker from the torch seed the loader's generator gave
    it, so any library drawing from them inside a worker is reproducible too."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
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
    random_erasing: float | RandomErasingConfig = 0.0,
    flip_p: float = 0.5,
    pad: int = AUTHORS_PAD,
    pixels: PixelArray | np.ndarray | None = None,
    positives: str = DEFAULT_POSITIVES,
    batches: str = DEFAULT_BATCHES,
) -> DataLoader:
    """``iterations`` batches of ``batch_size`` drawn on ``sample_labels`` (-1 never drawn).

    ``labels`` (N x B) are what each branch trains on; ``sample_labels`` (N,) decide the
    batches (the authors sample on the global branch's labels). ``pixels``: the records'
    prepared images (see :class:`ImageDataset`). ``positives``: how each label's K - 1 images
    beside the first are drawn, ``batches`` how the labels fill batches (P x K, or the
    authors' passes: :class:`PKSampler`). Batches are dicts with
    ``images`` [B,3,H,W], ``labels`` [B,nb], ``index`` [B] and ``camid`` [B].
    """
    if len(np.asarray(sample_labels)) != len(records):
        raise SecretError(
            f"sample_labels has {len(np.asarray(sample_labels))} entries for "
            f"{len(records)} records; pass one sampling label per record"
        )
    transform = build_transforms(
        height,
        width,
        train=True,
        flip_p=flip_p,
        pad=pad,
        random_erasing=random_erasing,
        prepared=pixels is not None,
    )
    dataset = ImageDataset(records, transform, labels, seed=seed, pixels=pixels)
    camids = np.array([r.camid for r in records], dtype=np.int64)
    sampler = PKSampler(
        sample_labels, num_instances, batch_size, iterations, seed, camids, positives, batches
    )
    return _PassSeededLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        drop_last=True,
        worker_init_fn=_seed_worker if num_workers > 0 else None,
        generator=torch.Generator().manual_seed(seed),
    )


class PreparedEvalBatches(Dataset):
    """Extraction batches of prepared pixels, in record order, each converted in one go.

    Item ``k`` is already the ``k``-th batch (the loader runs with ``batch_size=None``): one
    slice of the array, one conversion to float and one normalisation per batch. The
    per-image transforms cost ~0.25 ms an image on a CPU, a quarter of a tiny network's
    forward pass, and every epoch extracts the target and, when evaluated, its test set.
    The ops are the per-image path's own (ToTensor's ``x / 255``, Normalize's ``(x - mean)
    / std``), elementwise, so the tensors are bit-identical to it.
    """

    def __init__(
        self, records: Sequence[Record], pixels: PixelArray | np.ndarray, batch_size: int
    ) -> None:
        _check_pixel_count(pixels, len(records))
        if batch_size < 1:
            raise SecretError(f"batch_size must be at least 1, got {batch_size}; fix the config")
        self.records = list(records)
        self.pixels = pixels
        self.batch_size = int(batch_size)
        self.camids = torch.as_tensor([r.camid for r in self.records], dtype=torch.long)
        self.convert = prepared_batch_transform()

    def __len__(self) -> int:
        return -(-len(self.records) // self.batch_size)

    def __getitem__(self, batch: int) -> dict[str, torch.Tensor]:
        start = batch * self.batch_size
        stop = min(start + self.batch_size, len(self.records))
        if not 0 <= start < stop:
            raise IndexError(f"batch {batch} of {len(self)}")
        array = np.array(self.pixels[start:stop], dtype=np.uint8, copy=True)
        return {
            "images": self.convert(torch.from_numpy(array).permute(0, 3, 1, 2)),
            "labels": torch.full((stop - start, len(BRANCHES)), -1, dtype=torch.long),
            "index": torch.arange(start, stop),
            "camid": self.camids[start:stop],
        }


def build_eval_loader(
    records: Sequence[Record],
    *,
    height: int,
    width: int,
    batch_size: int = 128,
    num_workers: int = 0,
    pixels: PixelArray | np.ndarray | None = None,
) -> DataLoader:
    """Records in their order, without augmentation (feature extraction).

    With ``pixels`` (the workflow's case) whole batches are read and converted at once
    (:class:`PreparedEvalBatches`); without, each image is decoded and transformed.
    """
    if pixels is not None:
        return DataLoader(
            PreparedEvalBatches(records, pixels, batch_size),
            batch_size=None,
            shuffle=False,
            num_workers=num_workers,
        )
    transform = build_transforms(height, width, train=False)
    return DataLoader(
        ImageDataset(records, transform),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
    )
