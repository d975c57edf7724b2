"""Deterministic seeding.

A CPU run must be bit-reproducible for the same config and seed, and a resumed run must draw
the same random numbers as an uninterrupted one. Each stage therefore derives its own seed
from stable names (experiment, seed, epoch, stage) instead of sharing one global stream.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping

import numpy as np

from secret_core.errors import SecretError


def derive_seed(*parts: object) -> int:
    """A 31-bit seed that depends only on the given parts (stable across processes)."""
    text = "/".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, numpy and torch, and ask cuDNN for deterministic kernels."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def rng_state() -> dict[str, object]:
    """Every random state a stage consumes, as tensors and lists of ints/floats/strings, so a
    checkpoint holding it loads with ``torch.load(..., weights_only=True)``."""
    import torch

    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, object] = {
        "python": [int(version), [int(v) for v in internal], gauss],
        "numpy": [
            str(kind),
            torch.as_tensor(np.asarray(keys, dtype=np.int64)),
            int(pos),
            int(has_gauss),
            float(cached),
        ],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, object]) -> None:
    """Restore what :func:`rng_state` captured (also after a weights-only round trip, and
    when the checkpoint was mapped to a GPU). CUDA states are restored only when the saved
    and visible GPU counts agree, since they are per device."""
    import torch

    try:
        version, internal, gauss = state["python"]
        random.setstate((int(version), tuple(int(v) for v in internal), gauss))
        kind, keys, pos, has_gauss, cached = state["numpy"]
        keys_np = np.asarray(torch.as_tensor(keys).cpu().numpy(), dtype=np.int64)
        np.random.set_state(
            (str(kind), keys_np.astype(np.uint32), int(pos), int(has_gauss), float(cached))
        )
        torch.set_rng_state(torch.as_tensor(state["torch"]).cpu().to(torch.uint8))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise SecretError(
            f"checkpoint 'rng' entry is not a saved RNG state ({type(exc).__name__}: {exc}); "
            "rerun the rule that wrote the checkpoint"
        ) from None
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([torch.as_tensor(s).cpu().to(torch.uint8) for s in cuda])
