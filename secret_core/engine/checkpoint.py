"""Checkpoints: model, mean teacher, optimiser, counters and RNG states in one file.

Written to a temporary name and renamed, so a killed job never leaves a truncated
checkpoint; read with ``weights_only=True`` so loading never executes pickled code (every
entry is a tensor, a number, a string or a list/dict of those).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from secret_core import BRANCHES
from secret_core.engine.ema import MeanTeacher
from secret_core.errors import SecretError
from secret_core.io import atomic_path
from secret_core.seeding import rng_state

CHECKPOINT_KEYS = ("model", "teacher", "optimizer", "epoch", "global_step", "rng", "extra")
_READ_ERRORS = (
    RuntimeError,
    EOFError,
    ValueError,
    OSError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    teacher: MeanTeacher | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int,
    global_step: int,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write everything needed to resume or evaluate, atomically.

    ``extra`` must be JSON-like (numbers, strings, lists, dicts); anything else fails before
    the target is touched.
    """
    state = {
        "model": model.state_dict(),
        "teacher": teacher.model.state_dict() if teacher is not None else None,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "epoch": int(epoch),
        "global_step": int(global_step),
        "rng": rng_state(),
        "extra": dict(extra or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike, map_location: str = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; every key of :data:`CHECKPOINT_KEYS` is
    present in the result (``teacher``/``optimizer`` None when not saved)."""
    p = Path(path)
    if not p.is_file():
        raise SecretError(f"checkpoint {p} not found; run the rule that writes it first")
    try:
        state = torch.load(p, map_location=map_location, weights_only=True)
    except _READ_ERRORS as exc:
        raise SecretError(
            f"checkpoint {p} cannot be read ({type(exc).__name__}); delete it "
            "and rerun the rule that writes it"
        ) from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), Mapping):
        raise SecretError(
            f"checkpoint {p} is not a checkpoint of this pipeline (no 'model' entry); "
            "delete it and rerun the rule that writes it"
        )
    state.setdefault("teacher", None)
    state.setdefault("optimizer", None)
    state.setdefault("epoch", 0)
    state.setdefault("global_step", 0)
    state.setdefault("rng", None)
    state.setdefault("extra", {})
    return state


def load_model_state(
    model: nn.Module, state: Mapping[str, torch.Tensor], strict_backbone: bool = True
) -> None:
    """Load ``state`` after resizing each classifier to the stored number of classes.

    Classifier sizes follow the number of refined clusters, which changes every epoch, so a
    freshly built model cannot take a checkpoint's state as it is. With
    ``strict_backbone=False`` (a user's state dict as init) the classifiers and any key that
    is missing or has another shape are skipped, as long as something matches.
    """
    if strict_backbone:
        try:  # SecretError (a wrong classifier width) is a RuntimeError too
            for branch in BRANCHES:
                key = f"heads.{branch}.classifier.weight"
                if key in state:
                    model.heads[branch].set_classifier(state[key])
            model.load_state_dict(state)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0:2]
            raise SecretError(
                f"checkpoint weights do not fit the configured model ({' '.join(first)}); "
                "check model.arch and last_stride against the run that saved it"
            ) from None
        return
    own = model.state_dict()
    usable = {
        k: v
        for k, v in state.items()
        if k in own and own[k].shape == v.shape and ".classifier." not in k
    }
    if not usable:
        raise SecretError(
            "model.init state dict shares no weights with the configured arch; check model.arch"
        )
    model.load_state_dict(usable, strict=False)
