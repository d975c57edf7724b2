"""Random-erasing settings (torch-free, so the workflow can check the config at start-up)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secret_core.errors import SecretError

# The constants the authors' fine-tuning erases with, written into the already normalised
# tensor as they are (not zeros). Their RandomErasing class defaults to CIFAR's means
# (0.4914, 0.4822, 0.4465), but their transform builder passes cfg.INPUT.REA.MEAN, whose
# default (ImageNet's mean, 0.485, 0.456, 0.406) no released config overrides: that is what
# runs, so that is what we use.
AUTHORS_ERASING_FILL: tuple[float, float, float] = (0.485, 0.456, 0.406)

# How a rectangle is drawn. ``authors``: their RandomErasing class, the aspect ratio uniform
# on [min, max], up to 100 tries; ``torchvision``: T.RandomErasing, the ratio log-uniform, up
# to 10 tries (the rule this pipeline used before the choice became a key). With the authors'
# [0.3, 1/0.3], 77 % of their rectangles are taller than wide, against 50 % of torchvision's.
DRAWS = ("authors", "torchvision")
DEFAULT_DRAW = "torchvision"


@dataclass(frozen=True)
class RandomErasingConfig:
    """Random erasing as the authors' fine-tuning uses it (their defaults are ours).

    With probability ``p`` one rectangle covering ``area`` (min, max) of the image, with
    height/width ratio within ``aspect_ratio``, is filled with ``fill`` (per channel, after
    normalisation). torchvision's defaults differ (area up to 33%, fill 0), so every value is
    explicit here. ``draw`` picks how a rectangle is drawn (``DRAWS``): torchvision draws the
    ratio log-uniformly and tries 10 rectangles, the authors draw it uniformly and try 100;
    both leave the image untouched when no rectangle fits. ``key`` names the config entry in
    error messages.
    """

    p: float = 0.5
    area: tuple[float, float] = (0.02, 0.4)
    aspect_ratio: tuple[float, float] = (0.3, 3.3333333)
    fill: tuple[float, float, float] = AUTHORS_ERASING_FILL
    draw: str = DEFAULT_DRAW
    key: str = "random_erasing"

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise SecretError(
                f"config key '{self.key}.p': must be a probability in [0, 1], got {self.p}"
            )
        lo, hi = self.area
        if not 0.0 < lo <= hi <= 1.0:
            raise SecretError(
                f"config key '{self.key}.area': need 0 < min <= max <= 1 (authors "
                f"[0.02, 0.4]), got {list(self.area)}"
            )
        lo, hi = self.aspect_ratio
        if not 0.0 < lo <= hi:
            raise SecretError(
                f"config key '{self.key}.aspect_ratio': need 0 < min <= max (authors "
                f"[0.3, 3.3333333]), got {list(self.aspect_ratio)}"
            )
        if self.draw not in DRAWS:
            raise SecretError(
                f"config key '{self.key}.draw': one of {', '.join(DRAWS)} (authors: the "
                f"authors' RandomErasing), got {self.draw!r}"
            )
        if len(self.fill) != 3:
            raise SecretError(
                f"config key '{self.key}.fill': one value per RGB channel, got {list(self.fill)}"
            )

    @classmethod
    def from_config(
        cls, value: Mapping[str, Any] | float | None, key: str = "random_erasing"
    ) -> RandomErasingConfig:
        """From a config mapping (missing keys: the authors' values), a bare probability, or
        None (no erasing)."""
        if value is None:
            return cls(p=0.0, key=key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return cls(p=float(value), key=key)
        if not isinstance(value, Mapping):
            raise SecretError(
                f"config key '{key}' must be a mapping such as {{p: 0.5, area: [0.02, 0.4]}}"
            )
        unknown = sorted(set(value) - {"p", "area", "aspect_ratio", "fill", "draw"})
        if unknown:
            raise SecretError(
                f"config: unknown key {', '.join(map(repr, unknown))} at {key}; "
                "allowed keys there: aspect_ratio, area, draw, fill, p"
            )
        default = cls()
        return cls(
            p=float(value.get("p", default.p)),
            area=_floats(value.get("area", default.area)),
            aspect_ratio=_floats(value.get("aspect_ratio", default.aspect_ratio)),
            fill=_floats(value.get("fill", default.fill)),
            draw=str(value.get("draw", default.draw)),
            key=key,
        )


def _floats(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)
