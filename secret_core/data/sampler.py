"""P x K identity sampling over (pseudo) labels.

Triplet mining needs every batch to hold P labels with K images each. Pseudo labels mark
discarded samples with -1; those are never drawn. All randomness comes from one numpy
Generator seeded with ``seed`` (never global state), so a resumed epoch draws the same
batches as an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from secret_core.data.positives import BATCHES, DEFAULT_BATCHES, DEFAULT_POSITIVES, POSITIVES
from secret_core.errors import SecretError

# The authors' target epoch: 400 iterations x 64 images = 25,600 samples for Market-1501's
# 12,936 training images, about two samples per target image.
AUTHORS_SAMPLES_PER_IMAGE = 2
# The authors' source pre-training: 80 epochs x 100 iterations x 64 images over Market-1501's
# 12,936 training images, 39.6 passes over the source.
AUTHORS_PRETRAIN_SAMPLES = 80 * 100 * 64
MARKET_TRAIN_IMAGES = 12_936


def _positive_count(setting: object) -> int | None:
    """The setting when it is a fixed iteration count (a positive int), else None."""
    if isinstance(setting, int) and not isinstance(setting, bool) and setting >= 1:
        return setting
    return None


def _budget(setting: object, key: str) -> float | None:
    """S of a ``{key: S}`` budget with S > 0, else None."""
    if isinstance(setting, dict) and set(setting) == {key}:
        value = setting[key]
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def _ceil_iterations(iterations: float) -> int:
    """At least one iteration; rounded first so that 87.000000001 from float error is 87."""
    return max(1, math.ceil(round(iterations, 9)))


def iterations_per_epoch(setting: int | str | dict, num_images: int, batch_size: int) -> int:
    """``adapt.iterations``: a count, or a budget in samples per target training image.

    ``{samples_per_image: S}`` draws about S samples per image and epoch
    (``ceil(S N / batch_size)`` for N target training images); ``auto`` is the authors' two
    (``ceil(2 N / batch_size)``). Either way the budget scales with the target: a fixed count
    tuned on ~700 images trains a 12,936-image target for a twentieth of a pass.
    """
    count = _positive_count(setting)
    if count is not None:
        return count
    per_image = (
        AUTHORS_SAMPLES_PER_IMAGE if setting == "auto" else _budget(setting, "samples_per_image")
    )
    if per_image is None:
        raise SecretError(
            "adapt.iterations must be a positive integer, 'auto' or {samples_per_image: S} "
            f"with S > 0, got {setting!r}; fix the config"
        )
    return _ceil_iterations(per_image * int(num_images) / int(batch_size))


def capped_iterations(
    iterations: int, trained_samples: int, batch_size: int, max_draws: float | None
) -> int:
    """``adapt.max_draws_per_image``: at most ``ceil(D x T / batch_size)`` iterations for T
    training samples, so that no image is drawn more than about D times in the epoch.

    Why: the iterations follow the target's size (the authors' fixed 400), so a refinement
    that keeps 1 % of the target repeats each kept image hundreds of times, and from a weak
    start that undid the start model (docs/DEMO_EFFECT.md, section 51). ``None`` (the
    authors') keeps the iterations whatever trains. The cap costs growth where SECRET
    recovers on its own (section 53), so it is a lever for weak starts, not a default.
    """
    if max_draws is None:
        return iterations
    if isinstance(max_draws, bool) or not isinstance(max_draws, int | float) or max_draws <= 0:
        raise SecretError(
            f"adapt.max_draws_per_image must be a positive number or null (the authors': no "
            f"cap), got {max_draws!r}; fix the config"
        )
    if trained_samples <= 0:
        return iterations
    return min(iterations, _ceil_iterations(max_draws * trained_samples / int(batch_size)))


def pretrain_iterations_per_epoch(
    setting: int | str | dict, num_images: int, batch_size: int, epochs: int
) -> int:
    """``pretrain.iterations``: a count per epoch, or a budget in passes over the source.

    ``{passes: P}`` draws ``P x N`` samples over the ``epochs`` for N source training images
    (``ceil(P N / (epochs x batch_size))`` per epoch); ``auto`` is the authors' 39.6 passes
    (100 per epoch at Market's size, batch 64, 80 epochs). A fixed count tuned on a small
    source trains a larger one for a fraction of the passes: the demo's 30 x 20 x 32 is 27.6
    passes over its 696 images and 3.2 over a 6,000-image source.
    """
    count = _positive_count(setting)
    if count is not None:
        return count
    if setting == "auto":
        samples = AUTHORS_PRETRAIN_SAMPLES * int(num_images)
        return max(1, -(-samples // (MARKET_TRAIN_IMAGES * int(epochs) * int(batch_size))))
    passes = _budget(setting, "passes")
    if passes is None:
        raise SecretError(
            "pretrain.iterations must be a positive integer, 'auto' or {passes: P} with P > 0, "
            f"got {setting!r}; fix the config"
        )
    return _ceil_iterations(passes * int(num_images) / (int(epochs) * int(batch_size)))


class PKSampler(torch.utils.data.Sampler[int]):
    """Yields ``iterations`` batches of ``P = batch_size // num_instances`` labels x K images.

    Labels are drawn as a stream of shuffled passes over all valid labels (as the authors'
    sampler walks a permutation of the identities), so every label is visited about equally
    often; a batch never repeats a label unless fewer than P labels exist, in which case the
    batch is filled by cycling through the ones there are.

    Within a label the first instance (the anchor) is random; ``positives`` decides the
    other K - 1:

    - ``other_cameras``, as the authors' sampler: drawn at random from the label's members
      in cameras other than the anchor's, and only from them while there is one; from the
      label's other members when every member shares the anchor's camera. Drawn with
      replacement when the pool holds fewer than K members (the authors' test, so a pool of
      exactly K - 1 can repeat an image). A label of one image repeats it K times where the
      authors yield it alone, which shifts their later batches off the P x K grid.
    - ``spread``: first from the other cameras, spread over as many cameras as possible,
      then from the anchor's own camera; each member once before any repeats. More distinct
      images per label and never a repeat where the authors repeat one.

    Without ``camids`` both draw from the label's other members.

    ``batches`` decides how the stream of labels becomes batches:

    - ``grid``: every batch is P labels x K images, as above.
    - ``passes``, as the authors' loader: each pass over all labels in a random order gives
      K images per label (a label of one image gives that image once), and is cut into
      batches in order; its last partial batch is dropped and the next pass starts afresh.
      After a one-image label the rest of the pass is off the P x K grid: a label can be
      split over two batches, leaving anchors without a positive in the batch.
    """

    def __init__(
        self,
        labels: np.ndarray,
        num_instances: int,
        batch_size: int,
        iterations: int,
        seed: int,
        camids: np.ndarray | None = None,
        positives: str = DEFAULT_POSITIVES,
        batches: str = DEFAULT_BATCHES,
    ) -> None:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if positives not in POSITIVES:
            raise SecretError(
                f"positives must be one of {', '.join(POSITIVES)}, got {positives!r}; "
                "fix pretrain.positives / adapt.positives in the config"
            )
        if batches not in BATCHES:
            raise SecretError(
                f"batches must be one of {', '.join(BATCHES)}, got {batches!r}; "
                "fix pretrain.batches / adapt.batches in the config"
            )
        if num_instances < 1 or batch_size < num_instances or batch_size % num_instances:
            raise SecretError(
                f"batch_size {batch_size} must be a positive multiple of num_instances "
                f"{num_instances}; change one of them in the config"
            )
        if iterations < 0:
            raise SecretError(f"iterations must be >= 0, got {iterations}")
        if camids is not None:
            camids = np.asarray(camids, dtype=np.int64).reshape(-1)
            if camids.shape != labels.shape:
                raise SecretError(
                    f"camids has {camids.size} entries but labels has {labels.size}; "
                    "pass one camera per sample"
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
        self.camids = camids
        self.positives = positives
        self.batches = batches
        order = valid[np.argsort(labels[valid], kind="stable")]
        self.labels, starts = np.unique(labels[order], return_index=True)
        self.groups: list[np.ndarray] = np.split(order, starts[1:])
        if batches == "passes" and iterations > 0 and self.pass_length < batch_size:
            raise SecretError(
                f"one pass over the {len(self.groups)} labels gives {self.pass_length} images, "
                f"fewer than one batch of {batch_size}: with batches: passes no batch is ever "
                "full; use batches: grid or a smaller batch_size in the config"
            )

    @property
    def pass_length(self) -> int:
        """Images in one ``passes`` pass: K per label, one for a label of one image."""
        return sum(self.num_instances if len(g) > 1 else 1 for g in self.groups)

    @property
    def num_labels_per_batch(self) -> int:
        return self.batch_size // self.num_instances

    def __len__(self) -> int:
        return self.iterations * self.batch_size

    def _instances(self, members: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """K members of one label (see the class docstring for the two rules); under
        ``passes`` a label of one image gives it once, as the authors' sampler does."""
        if self.batches == "passes" and len(members) == 1:
            return members
        if self.positives == "other_cameras":
            return self._instances_other_cameras(members, rng)
        return self._instances_spread(members, rng)

    def _instances_other_cameras(self, members: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The anchor, then K - 1 from its label's other cameras (the authors' rule)."""
        k = self.num_instances
        anchor = members[rng.integers(len(members))]
        pool = members[members != anchor]
        if self.camids is not None:
            other_cameras = members[self.camids[members] != self.camids[anchor]]
            if other_cameras.size:
                pool = other_cameras
        if pool.size == 0:
            return np.full(k, anchor)
        rest = rng.choice(pool, size=k - 1, replace=bool(pool.size < k))
        return np.concatenate([[anchor], rest])

    def _instances_spread(self, members: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The anchor, then other cameras round-robin, then its own camera."""
        k = self.num_instances
        shuffled = rng.permutation(members)
        if self.camids is not None and len(shuffled) > 1:
            cams = self.camids[shuffled]
            # rank of each member among the members of its camera, in shuffled order
            by_cam = np.argsort(cams, kind="stable")
            starts = np.searchsorted(cams[by_cam], cams[by_cam])
            rank = np.empty(len(cams), dtype=np.int64)
            rank[by_cam] = np.arange(len(cams)) - starts
            # the anchor's own camera comes after every other camera
            key = rank + np.where(cams == cams[0], len(cams), 0)
            key[0] = -1
            shuffled = shuffled[np.argsort(key, kind="stable")]
        if len(shuffled) >= k:
            return shuffled[:k]
        return np.concatenate([shuffled, rng.choice(members, size=k - len(shuffled))])

    def _label_stream(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        """Batches of P label positions, from successive permutations of all labels."""
        p, n = self.num_labels_per_batch, len(self.groups)
        if n < p:  # too few labels: every label once (or more), cycling
            while True:
                yield np.resize(rng.permutation(n), p)
        queue = rng.permutation(n)
        while True:
            if len(queue) < p:
                # top up with a fresh pass, keeping the leftovers' labels out of this batch
                fresh = rng.permutation(n)
                fresh = np.concatenate(
                    [fresh[~np.isin(fresh, queue)], fresh[np.isin(fresh, queue)]]
                )
                queue = np.concatenate([queue, fresh])
            yield queue[:p]
            queue = queue[p:]

    def _grid_batches(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        for chosen in self._label_stream(rng):
            yield np.concatenate([self._instances(self.groups[c], rng) for c in chosen])

    def _pass_batches(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        """The authors' stream: whole passes cut into batches, each pass's rest dropped."""
        while True:
            order = rng.permutation(len(self.groups))
            images = np.concatenate([self._instances(self.groups[c], rng) for c in order])
            for start in range(0, len(images) - self.batch_size + 1, self.batch_size):
                yield images[start : start + self.batch_size]

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng(self.seed)
        stream = self._pass_batches(rng) if self.batches == "passes" else self._grid_batches(rng)
        for _ in range(self.iterations):
            yield from next(stream).tolist()
