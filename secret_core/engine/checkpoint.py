"""Checkpoints: model, mean teacher and counters in one file, and nothing else.

A checkpoint holds only what is read back. The optimiser is not stored: as in the authors'
code a fresh Adam is built at every target epoch, so its moments (twice the model's size) were
never loaded. Only with ``adapt.optimizer_state: carry`` does a target epoch store the Adam
moments of its non-classifier parameters (``adam_moments``), which the next epoch reads back.
Neither are RNG states: every stage seeds itself from
``secret_core.seeding.derive_seed``, so a resumed epoch draws the same numbers without them.
Checkpoints written before this change, which carry ``optimizer`` and ``rng`` entries, still
load; those entries are dropped on reading.

Written to a temporary name and renamed, so a killed job never leaves a truncated
checkpoint; read with ``weights_only=True`` so loading never executes pickled code (every
entry is a tensor, a number, a string or a list/dict of those). Classifier sizes change
every epoch: load the weights with :func:`load_model_state`, which resizes them first.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from secret_core.engine.ema import MeanTeacher
from secret_core.errors import SecretError
from secret_core.io import atomic_path
from secret_core.modeling.state import load_model_state

__all__ = ["CHECKPOINT_KEYS", "load_checkpoint", "load_model_state", "save_checkpoint"]

CHECKPOINT_KEYS = ("model", "teacher", "epoch", "global_step", "extra", "adam_moments")
_LEGACY_KEYS = ("optimizer", "rng")
"""Entries older checkpoints carry that nothing reads: dropped by :func:`load_checkpoint`."""
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
    epoch: int,
    global_step: int,
    extra: Mapping[str, Any] | None = None,
    adam_moments: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
) -> None:
    """Write what the next epoch and the evaluation read back (see the module), atomically.

    ``extra`` must be JSON-like: numpy scalars and arrays become Python numbers and lists,
    tuples become lists, tensors are kept; anything else is a SecretError raised before the
    target is touched (it would otherwise only fail when a weights-only load reads it back).
    """
    state = {
        "model": model.state_dict(),
        "teacher": teacher.state_dict() if teacher is not None else None,
        "epoch": int(epoch),
        "global_step": int(global_step),
        "extra": _plain(dict(extra or {}), "extra"),
    }
    if adam_moments is not None:  # absent otherwise: earlier checkpoints stay byte-identical
        state["adam_moments"] = {name: dict(entry) for name, entry in adam_moments.items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _plain(value: Any, where: str) -> Any:
    """``value`` as types a weights-only unpickler accepts (see :func:`save_checkpoint`)."""
    if isinstance(value, np.generic):  # before float/int: np.float64 subclasses float
        return _plain(value.item(), where)
    if value is None or isinstance(value, torch.Tensor):
        return value
    for kind in (bool, int, float, str):  # exact built-ins: subclasses (enums) do not unpickle
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str | int):
                raise SecretError(
                    f"checkpoint {where} has a key of type {type(key).__name__}; use str keys"
                )
            out[key] = _plain(item, f"{where}[{key!r}]")
        return out
    raise SecretError(
        f"checkpoint {where} is a {type(value).__name__}; store numbers, strings, lists, "
        "dicts or tensors there"
    )


def load_checkpoint(path: str | os.PathLike, map_location: str = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; the result has exactly the keys of
    :data:`CHECKPOINT_KEYS` (``teacher`` and ``adam_moments`` None when not saved; older
    checkpoints' optimizer and RNG entries are dropped)."""
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
    for key in _LEGACY_KEYS:
        state.pop(key, None)
    state.setdefault("teacher", None)
    state.setdefault("adam_moments", None)
    state.setdefault("epoch", 0)
    state.setdefault("global_step", 0)
    state.setdefault("extra", {})
    return state
