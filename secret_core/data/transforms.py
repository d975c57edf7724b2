"""Image transforms of the recipe: flip, pad + random crop, and random erasing (target only)."""

from __future__ import annotations

from torchvision import transforms as T

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def build_transforms(
    height: int,
    width: int,
    train: bool,
    flip_p: float = 0.5,
    pad: int = 10,
    random_erasing: float = 0.0,
) -> T.Compose:
    """PIL image -> normalised tensor; augmentation only for training.

    Random erasing is off unless asked: the authors use it in target fine-tuning only.
    """
    steps: list = [T.Resize((height, width), interpolation=T.InterpolationMode.BICUBIC)]
    if train:
        steps += [T.RandomHorizontalFlip(p=flip_p)]
        if pad > 0:
            steps += [T.Pad(pad), T.RandomCrop((height, width))]
    steps += [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    if train and random_erasing > 0:
        steps += [T.RandomErasing(p=random_erasing, value=0)]
    return T.Compose(steps)
