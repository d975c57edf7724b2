"""Deterministic seeding.

A CPU run must be bit-reproducible for the same config and seed, and a resumed run must draw
the same random numbers as an uninterrupted one. Each stage therefore derives its own seed
from stable names (experiment, seed, epoch, stage) instead of sharing one global stream, which
is also why checkpoints carry no RNG state: nothing would ever restore it.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np


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
