"""Image transforms of the recipe: flip, pad + random crop, and random erasing (target only).

Random draws come from torch's global generator (torchvision has no per-transform
generator); the loaders make that deterministic by seeding it per worker, and the training
stages seed it per stage.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision import transforms as T

from secret_core.errors import SecretError

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


def build_transforms(
    height: int,
    width: int,
    train: bool,
    flip_p: float = 0.5,
    pad: int = 10,
    random_erasing: float = 0.0,
    normalize: bool = True,
    prepared: bool = False,
) -> T.Compose:
    """PIL image -> float tensor [3, height, width]; augmentation only when ``train``.

    With ``prepared`` the input is a uint8 (height, width, 3) array already resized by the
    dataset preparation (:mod:`secret_core.data.prepared`): the same flip, pad and crop run on
    a uint8 tensor (the same random draws, pure pixel copies) and the conversion to float is
    ToTensor's own ``x.float() / 255``, so the output is bit-identical to the JPEG path.

    Resizing is bicubic, as in the authors' code. Random erasing is off unless asked: the
    recipe uses it in target fine-tuning only (p 0.5), never in source pre-training. It runs
    after normalisation and fills with 0, i.e. the ImageNet mean colour, like the authors'
    mean-filled erasing.
    """
    for name, p in (("flip_p", flip_p), ("random_erasing", random_erasing)):
        if not 0.0 <= p <= 1.0:
            raise SecretError(f"{name} must be a probability in [0, 1], got {p}; fix the config")
    if height < 1 or width < 1 or pad < 0:
        raise SecretError(
            f"image size {height}x{width} and pad {pad} must be positive (pad >= 0); fix the config"
        )
    if prepared:
        steps: list = [ArrayToTensor()]
    else:
        steps = [T.Resize((height, width), interpolation=T.InterpolationMode.BICUBIC)]
    if train:
        if flip_p > 0:
            steps.append(T.RandomHorizontalFlip(p=flip_p))
        if pad > 0:
            steps += [T.Pad(pad), T.RandomCrop((height, width))]
    steps.append(UInt8ToFloat() if prepared else T.ToTensor())
    if normalize:
        steps.append(T.Normalize(IMAGENET_MEAN, IMAGENET_STD))
    if train and random_erasing > 0:
        steps.append(T.RandomErasing(p=random_erasing, value=0))
    return T.Compose(steps)


class ArrayToTensor:
    """uint8 (H, W, 3) array -> uint8 tensor [3, H, W].

    The image is copied out of the read-only memory map (torch wants writable memory).
    """

    def __call__(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(array, dtype=np.uint8, copy=True)).permute(2, 0, 1)


class UInt8ToFloat:
    """uint8 tensor -> float32 in [0, 1], computed exactly as ``T.ToTensor`` does."""

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image.contiguous().to(dtype=torch.get_default_dtype()).div(255)
