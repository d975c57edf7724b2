"""P x K identity sampling over (pseudo) labels.

Triplet mining needs every batch to hold P identities with K images each. Pseudo labels mark
discarded samples with -1; those are never drawn. All randomness comes from one seeded
numpy Generator so that a resumed epoch draws the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from secret_core.errors import SecretError


class PKSampler(torch.utils.data.Sampler[int]):
    """Yields ``iterations`` batches of ``batch_size // num_instances`` labels x K images."""

    def __init__(
        self,
        labels: np.ndarray,
        num_instances: int,
        batch_size: int,
        iterations: int,
        seed: int,
        camids: np.ndarray | None = None,
    ) -> None:
        labels = np.asarray(labels, dtype=np.int64)
        if batch_size % num_instances:
            raise SecretError(
                f"batch_size {batch_size} must be a multiple of num_instances {num_instances}"
            )
        valid = np.flatnonzero(labels >= 0)
        if valid.size == 0:
            raise SecretError(
                "no sample has a label (all -1): nothing to train on this epoch; "
                "lower the refinement strictness k or check the clustering eps"
            )
        self.num_instances = num_instances
        self.batch_size = batch_size
        self.iterations = iterations
        self.seed = seed
        order = np.argsort(labels[valid], kind="stable")
        sorted_idx = valid[order]
        uniq, starts = np.unique(labels[sorted_idx], return_index=True)
        self.groups = np.split(sorted_idx, starts[1:])
        self.labels = uniq
        self.camids = None if camids is None else np.asarray(camids)

    def __len__(self) -> int:
        return self.iterations * self.batch_size

    def _instances(self, members: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """K members of one label, preferring distinct cameras (as the authors' sampler)."""
        k = self.num_instances
        if len(members) < k:
            return rng.choice(members, size=k, replace=True)
        shuffled = rng.permutation(members)
        if self.camids is None:
            return shuffled[:k]
        cams = self.camids[shuffled]
        _, first = np.unique(cams, return_index=True)
        first = np.sort(first)
        rest = np.setdiff1d(np.arange(len(shuffled)), first, assume_unique=True)
        return shuffled[np.concatenate([first, rest])][:k]

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng(self.seed)
        p = self.batch_size // self.num_instances
        n_labels = len(self.groups)
        for _ in range(self.iterations):
            chosen = rng.choice(n_labels, size=p, replace=n_labels < p)
            batch = np.concatenate([self._instances(self.groups[c], rng) for c in chosen])
            yield from batch.tolist()
