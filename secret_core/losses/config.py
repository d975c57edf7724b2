"""Loss settings of a stage (torch-free, so the workflow can check the config at start-up).

One ``LossConfig`` is built per stage from ``pretrain.loss`` or ``adapt.loss`` and passed to
every iteration; nothing is hidden in a default: the triplet kind is always explicit and a
margin only exists for the hinge form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secret_core.errors import SecretError
from secret_core.pipeline.rules import DEFAULT_LONE_ANCHORS, LONE_ANCHORS

TRIPLET_KINDS: tuple[str, ...] = ("soft_margin", "hinge")
# The authors' fine-tuning mix with a teacher: (1 - a) CE + a soft CE with a = 0.5, and
# (1 - b) triplet + b soft triplet with b = 0.8.
AUTHORS_MEAN_TEACHER: dict[str, float] = {
    "ce": 0.5,
    "soft_ce": 0.5,
    "triplet": 0.2,
    "soft_triplet": 0.8,
}
_LOSS_KEYS = ("ce", "label_smoothing", "triplet", "mean_teacher")
_TRIPLET_KEYS = ("kind", "margin", "weight", "lone_anchors")


@dataclass(frozen=True)
class LossConfig:
    """Weights of the four loss terms (each summed over the branches in use), the CE label
    smoothing and the triplet form; ``key`` is the config path named in error messages.

    The defaults are the authors' loss without a teacher: CE (smoothing 0.1) + soft-margin
    triplet, weight 1 each.
    """

    ce: float = 1.0
    triplet: float = 1.0
    soft_ce: float = 0.0
    soft_triplet: float = 0.0
    label_smoothing: float = 0.1
    triplet_kind: str = "soft_margin"
    margin: float | None = None
    lone_anchors: str = DEFAULT_LONE_ANCHORS
    key: str = "loss"

    def __post_init__(self) -> None:
        check_triplet(self.triplet_kind, self.margin, f"{self.key}.triplet")
        if self.lone_anchors not in LONE_ANCHORS:
            raise SecretError(
                f"config key '{self.key}.triplet.lone_anchors': one of "
                f"{', '.join(LONE_ANCHORS)} (self: the authors'), got {self.lone_anchors!r}"
            )
        names = {"triplet": "triplet.weight"}
        for name in ("ce", "triplet", "soft_ce", "soft_triplet"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise SecretError(
                    f"config key '{self.key}.{names.get(name, name)}': weight must be a "
                    f"number >= 0, got {value!r}"
                )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise SecretError(
                f"config key '{self.key}.label_smoothing': must be in [0, 1) "
                f"(authors: 0.1), got {self.label_smoothing!r}"
            )

    @classmethod
    def mean_teacher(cls) -> LossConfig:
        """The authors' mean-teacher mix: 0.5 CE + 0.5 soft CE + 0.2 soft-margin triplet +
        0.8 soft triplet."""
        return cls(**AUTHORS_MEAN_TEACHER)

    @classmethod
    def from_config(
        cls, loss: Mapping[str, Any] | None, key: str, mean_teacher: bool = False
    ) -> LossConfig:
        """The loss of a stage from its config section (``pretrain.loss`` / ``adapt.loss``).

        ``ce``, ``label_smoothing`` and ``triplet: {kind, margin, weight}`` apply to every
        run; with ``mean_teacher`` the four weights of the ``mean_teacher`` sub-dict replace
        ``ce`` and ``triplet.weight`` and add the soft terms. Missing keys take the schema's
        defaults (the authors' values); unknown keys are one-line errors naming the key.
        """
        loss = dict(loss or {})
        _reject_unknown(loss, _LOSS_KEYS, key)
        triplet = loss.get("triplet") or {}
        if not isinstance(triplet, Mapping):
            raise SecretError(
                f"config key '{key}.triplet' must be a mapping such as "
                "{kind: soft_margin, weight: 1.0}"
            )
        _reject_unknown(triplet, _TRIPLET_KEYS, f"{key}.triplet")
        weights = {"ce": loss.get("ce", 1.0), "triplet": triplet.get("weight", 1.0)}
        if mean_teacher:
            mt = loss.get("mean_teacher")
            mt = dict(AUTHORS_MEAN_TEACHER if mt is None else mt)
            _reject_unknown(mt, tuple(AUTHORS_MEAN_TEACHER), f"{key}.mean_teacher")
            weights = {**AUTHORS_MEAN_TEACHER, **mt}
            key_of = {name: f"mean_teacher.{name}" for name in weights}
        else:
            key_of = {"ce": "ce", "triplet": "triplet.weight"}
        for name, value in weights.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise SecretError(
                    f"config key '{key}.{key_of[name]}': weight must be a number >= 0, "
                    f"got {value!r}"
                )
        return cls(
            **{name: float(value) for name, value in weights.items()},
            label_smoothing=float(loss.get("label_smoothing", 0.1)),
            triplet_kind=str(triplet.get("kind", "soft_margin")),
            margin=None if triplet.get("margin") is None else float(triplet["margin"]),
            lone_anchors=str(triplet.get("lone_anchors", DEFAULT_LONE_ANCHORS)),
            key=key,
        )


def _reject_unknown(section: Mapping[str, Any], allowed: Sequence[str], key: str) -> None:
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        raise SecretError(
            f"config: unknown key {', '.join(map(repr, unknown))} at {key}; "
            f"allowed keys there: {', '.join(allowed)}"
        )


def check_triplet(kind: str, margin: float | None, key: str = "triplet") -> None:
    """One-line error unless (kind, margin) is a meaningful pair; ``key`` names the config."""
    if kind not in TRIPLET_KINDS:
        raise SecretError(
            f"config key '{key}.kind': {kind!r} is not one of {', '.join(TRIPLET_KINDS)}"
        )
    if kind == "soft_margin" and margin is not None:
        raise SecretError(
            f"config key '{key}.margin': soft_margin has no margin (softplus(d_ap - d_an)); "
            "remove the margin or set kind: hinge"
        )
    if kind == "hinge" and (margin is None or float(margin) <= 0):
        raise SecretError(
            f"config key '{key}.margin': kind hinge needs a margin > 0 (e.g. 0.3), "
            f"got {margin!r}; or use kind: soft_margin"
        )
