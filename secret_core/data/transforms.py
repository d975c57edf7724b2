"""Image transforms of the recipe: flip, pad + random crop, and random erasing (target only).

Random draws come from torch's global generator (torchvision has no per-transform
generator); the loaders make that deterministic by seeding it per worker, and the training
stages seed it per stage.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torchvision import transforms as T

from secret_core.data.erasing import AUTHORS_ERASING_FILL, RandomErasingConfig
from secret_core.errors import SecretError

__all__ = [
    "AUTHORS_ERASING_FILL",
    "AUTHORS_PAD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "AuthorsRandomErasing",
    "RandomErasingConfig",
    "build_transforms",
    "prepared_batch_transform",
    "random_erasing_transform",
]

# The authors' zero padding before the random crop (INPUT.PADDING), in pixels at 256x128;
# config key model.pad scales it to other input sizes.
AUTHORS_PAD = 10
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


def build_transforms(
    height: int,
    width: int,
    train: bool,
    flip_p: float = 0.5,
    pad: int = AUTHORS_PAD,
    random_erasing: float | RandomErasingConfig = 0.0,
    normalize: bool = True,
    prepared: bool = False,
) -> T.Compose:
    """PIL image -> float tensor [3, height, width]; augmentation only when ``train``.

    With ``prepared`` the input is a uint8 (height, width, 3) array already resized by the
    dataset preparation (:mod:`secret_core.data.prepared`): the same flip, pad and crop run on
    a uint8 tensor (the same random draws, pure pixel copies) and the conversion to float is
    ToTensor's own ``x.float() / 255``, so the output is bit-identical to the JPEG path.

    Resizing is bicubic, as in the authors' code. Random erasing is off unless asked: the
    recipe uses it in target fine-tuning only, never in source pre-training. It runs after
    normalisation; a bare probability means the authors' erasing with that probability, a
    ``RandomErasingConfig`` sets every parameter.
    """
    if not isinstance(random_erasing, RandomErasingConfig):
        if not 0.0 <= random_erasing <= 1.0:
            raise SecretError(
                f"random_erasing must be a probability in [0, 1], got {random_erasing}; "
                "fix the config"
            )
        random_erasing = RandomErasingConfig(p=float(random_erasing))
    if not 0.0 <= flip_p <= 1.0:
        raise SecretError(f"flip_p must be a probability in [0, 1], got {flip_p}; fix the config")
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
    if train and random_erasing.p > 0:
        steps.append(random_erasing_transform(random_erasing))
    return T.Compose(steps)


def prepared_batch_transform() -> T.Compose:
    """uint8 batch [n, 3, H, W] of prepared pixels -> the normalised float batch, by the same
    conversion and normalisation ``build_transforms(..., prepared=True)`` applies per image
    (both elementwise, so each image comes out bit-identical to the per-image path)."""
    return T.Compose([UInt8ToFloat(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def random_erasing_transform(cfg: RandomErasingConfig) -> T.RandomErasing | AuthorsRandomErasing:
    """Random erasing of normalised tensors with every parameter from ``cfg``: the authors'
    rectangle draw or torchvision's (``cfg.draw``)."""
    if cfg.draw == "authors":
        return AuthorsRandomErasing(cfg)
    return T.RandomErasing(p=cfg.p, scale=cfg.area, ratio=cfg.aspect_ratio, value=list(cfg.fill))


class AuthorsRandomErasing:
    """The authors' RandomErasing: with probability p, up to 100 tries of a rectangle of area
    uniform in ``area`` (share of the image) and height/width ratio uniform in
    ``aspect_ratio``, sides rounded, kept when strictly smaller than the image; its top-left
    corner uniform over the positions where it fits. Draws come from torch's generator (the
    authors use Python's ``random``), so the loaders' seeding covers them."""

    TRIES = 100

    def __init__(self, cfg: RandomErasingConfig) -> None:
        self.cfg = cfg
        self.fill = torch.tensor(cfg.fill, dtype=torch.float32).view(3, 1, 1)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if torch.rand(1).item() >= self.cfg.p:
            return image
        height, width = image.shape[-2:]
        (area_lo, area_hi), (ratio_lo, ratio_hi) = self.cfg.area, self.cfg.aspect_ratio
        for _ in range(self.TRIES):
            target = height * width * torch.empty(1).uniform_(area_lo, area_hi).item()
            ratio = torch.empty(1).uniform_(ratio_lo, ratio_hi).item()
            h = round(math.sqrt(target * ratio))
            w = round(math.sqrt(target / ratio))
            if w < width and h < height:
                top = int(torch.randint(0, height - h + 1, (1,)).item())
                left = int(torch.randint(0, width - w + 1, (1,)).item())
                image = image.clone()
                image[..., top : top + h, left : left + w] = self.fill.to(image.dtype)
                return image
        return image


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
