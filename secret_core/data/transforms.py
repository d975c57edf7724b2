"""Image transforms of the recipe: flip, pad + random crop, and random erasing (target only).

Random draws come from torch's global generator (torchvision has no per-transform
generator); the loaders make that deterministic by seeding it per worker, and the training
stages seed it per stage.
"""

from __future__ import annotations

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
) -> T.Compose:
    """PIL image -> float tensor [3, height, width]; augmentation only when ``train``.

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
    steps: list = [T.Resize((height, width), interpolation=T.InterpolationMode.BICUBIC)]
    if train:
        if flip_p > 0:
            steps.append(T.RandomHorizontalFlip(p=flip_p))
        if pad > 0:
            steps += [T.Pad(pad), T.RandomCrop((height, width))]
    steps.append(T.ToTensor())
    if normalize:
        steps.append(T.Normalize(IMAGENET_MEAN, IMAGENET_STD))
    if train and random_erasing > 0:
        steps.append(T.RandomErasing(p=random_erasing, value=0))
    return T.Compose(steps)
