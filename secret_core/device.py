"""Every device decision of the project lives here.

Training, extraction and faiss all ask this module which device to use, so that the same code
runs unchanged on a CPU-only laptop and on a CUDA node: the config says ``device: auto`` (CUDA
when present) or names one explicitly, and AMP is enabled only where it helps (CUDA).
"""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING

from secret_core.errors import SecretError

if TYPE_CHECKING:  # torch is imported lazily: clustering jobs need this module but not torch
    import torch


def resolve_device(requested: str = "auto") -> torch.device:
    """Map a config value (``auto``, ``cpu``, ``cuda``, ``cuda:1``) to a torch device.

    ``auto`` picks CUDA when a GPU is visible. Asking for CUDA on a machine without one is an
    error rather than a silent fallback, because a cluster job that lost its GPU should fail
    loudly instead of running 50x slower.
    """
    import torch

    requested = (requested or "auto").strip().lower()
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise SecretError(
            f"config device is '{requested}' but no CUDA GPU is visible; set device: auto or cpu"
        )
    try:
        return torch.device(requested)
    except RuntimeError as exc:
        raise SecretError(f"config device '{requested}' is not a torch device: {exc}") from None


def amp_enabled(device: torch.device, requested: bool = True) -> bool:
    """Mixed precision only on CUDA: on CPU bfloat16 autocast is slower and changes results."""
    return bool(requested) and device.type == "cuda"


def autocast(device: torch.device, enabled: bool):
    """Autocast context for the given device (a no-op context when disabled)."""
    import torch

    return torch.autocast(device_type=device.type, dtype=torch.float16, enabled=enabled)


@functools.cache
def faiss_gpu_available() -> bool:
    """True when faiss was built with GPU support and a GPU is visible."""
    try:
        import faiss
    except ImportError:  # pragma: no cover - an extra (cpu or gpu); knn() names the fix
        return False
    get_num_gpus = getattr(faiss, "get_num_gpus", None)
    return bool(get_num_gpus and get_num_gpus() > 0)


def use_faiss_gpu(requested: str = "auto") -> bool:
    """Whether nearest-neighbour search should run on a GPU faiss index."""
    requested = (requested or "auto").strip().lower()
    if requested == "cpu":
        return False
    return faiss_gpu_available()


THREAD_ENV_VARS: tuple[str, ...] = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def configure_threads(threads: int | None) -> None:
    """Bound every thread pool of the job to the threads the scheduler gave it.

    Importing torch costs seconds and most of a GiB, so this never imports it: clustering,
    refinement and report jobs need only numpy, faiss, scipy and scikit-learn. The
    environment variables bind libraries loaded later (and child processes); threadpoolctl
    bounds the BLAS/OpenMP pools already loaded; faiss, numba and torch are bounded only
    when the stage has already imported them (torch stages import it at module level, before
    this; the clustering step imports numba only at Market-1501 size, after this).
    """
    if not threads or threads <= 0:
        return
    n = int(threads)
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a scikit-learn dependency, always present
        pass
    else:
        threadpool_limits(limits=n)
    faiss = sys.modules.get("faiss")
    if faiss is not None and hasattr(faiss, "omp_set_num_threads"):
        faiss.omp_set_num_threads(n)
    numba = sys.modules.get("numba")
    if numba is not None:  # its pool is sized at import (NUMBA_NUM_THREADS) and never grows
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


def channels_last_enabled(device: torch.device) -> bool:
    """Channels-last images and weights only on CUDA: there it feeds tensor cores, while on
    the CPU it made a ResNet-18 step ~17x slower on the development machine."""
    return device.type == "cuda"
