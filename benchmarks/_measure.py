"""Timing and peak-memory helpers shared by the benchmark scripts."""

from __future__ import annotations

import ctypes
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil


class PeakRSS:
    """Samples the process's resident memory in a thread; ``peak`` minus ``base`` is what a
    step added (tracemalloc misses memory allocated by faiss and BLAS)."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.proc = psutil.Process()
        self.base = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def added_mib(self) -> float:
        return (self.peak - self.base) / 2**20


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, MiB of resident memory added at peak)."""
    with PeakRSS() as mem:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    return result, seconds, mem.added_mib


def fresh_memory_ms_per_mib(mib: int = 256) -> float:
    """Milliseconds per MiB to write anonymous memory the process never had: the kernel's
    page faults and zeroing (about 0.2 ms on an ordinary Linux host). A VM whose memory the
    hypervisor backs lazily, page by page, pays 10-40x that on every first touch, which
    then dominates any step that writes a large result."""
    start = time.perf_counter()
    block = np.ones(mib * 2**20 // 8)
    seconds = time.perf_counter() - start
    del block
    return 1000.0 * seconds / mib


def keep_memory_backed(gib: float) -> float:
    """Write ``gib`` GiB once and keep it in the process (glibc told not to use mmap for
    large blocks nor to give freed memory back), so that later allocations reuse pages
    already backed: the steps' seconds are then their compute, not the hypervisor's page
    faults. Resident-memory readings are meaningless afterwards. Returns the seconds spent."""
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_max = -1, -4  # glibc's mallopt parameter numbers
    libc.mallopt(m_mmap_max, 0)
    libc.mallopt(m_trim_threshold, 2**31 - 1)
    start = time.perf_counter()
    block = np.ones(int(gib * 2**30) // 8)
    del block
    return time.perf_counter() - start


def process_peak_mib() -> float:
    """Peak resident memory of the whole process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def blobs(n: int, dim: int, seed: int) -> np.ndarray:
    """Clustered unit-norm features: ~17 per centre, noise comparable to the centre spread."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 17, 1), dim)).astype(np.float32)
    x = centres[rng.integers(len(centres), size=n)]
    x += 0.9 * rng.normal(size=x.shape).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x
