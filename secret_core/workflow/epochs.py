"""Which target epochs exist, which are evaluated, and which checkpoints are kept."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

from secret_core import MAX_DISTANCE

SETTINGS = ("uda", "usl")


def adapt_settings(config: Mapping, setting: str) -> dict:
    """Target-adaptation settings; the fully unsupervised setting replaces some of them.

    ``max_distance`` defaults to the library's ``MAX_DISTANCE`` here, not in the schema, so
    the cluster stage, ``jaccard_distance`` and ``choose_eps`` share one default.
    """
    adapt = copy.deepcopy(dict(config["adapt"]))
    adapt.setdefault("max_distance", MAX_DISTANCE)
    if setting == "usl":
        adapt.update(config.get("usl", {}))
    return adapt


def num_epochs(config: Mapping, setting: str) -> int:
    return int(adapt_settings(config, setting)["epochs"])


def eval_epochs(config: Mapping, setting: str) -> list[int]:
    """Epoch 0 (the starting point), every ``eval_every`` epochs, and the last epoch."""
    adapt = adapt_settings(config, setting)
    last, every = int(adapt["epochs"]), int(adapt.get("eval_every", 1))
    return sorted({0, last, *range(every, last + 1, every)})


def checkpoint_epochs(config: Mapping) -> tuple[list[int], list[int]]:
    """Target epochs whose checkpoint is kept, and those whose checkpoint is temporary.

    An 80-epoch ResNet-50 run writes one checkpoint (model, mean teacher) per
    epoch; keeping them all costs tens of GB per experiment. Resume only needs the newest one,
    which Snakemake keeps until the next epoch's jobs have read it, so only every
    ``keep_checkpoints_every``-th epoch (``0``: none), every evaluated epoch and the last
    epoch of each setting are kept for good. Evaluated epochs must stay: an evaluation whose
    params change (say ``evaluation.eta``) would otherwise need its deleted checkpoint back,
    and Snakemake would recompute the whole chain of epochs to get it.
    """
    every = int(config.get("keep_checkpoints_every", 1))
    settings = settings_in_use(config)
    kept = {e for s in settings for e in eval_epochs(config, s) if e > 0}
    horizon = max(num_epochs(config, s) for s in settings)
    kept |= {e for e in range(1, horizon + 1) if every and e % every == 0}
    temporary = [e for e in range(1, horizon + 1) if e not in kept]
    return sorted(kept), temporary


def last_epochs(config: Mapping) -> list[int]:
    """The final epoch of each setting in use (one number when the settings agree).

    A final epoch keeps the features its fine-tuning job extracted after training (earlier
    epochs' are temporary): if ``adapt.epochs`` later grows, the first new epoch clusters
    them, and the finished epoch is not trained again to make them.
    """
    settings = settings_in_use(config)
    return sorted({num_epochs(config, s) for s in settings})


def epoch_pattern(epochs: list[int]) -> str:
    """A wildcard regex matching exactly these three-digit epochs (nothing when empty)."""
    if not epochs:
        return "(?!)"
    return "|".join(f"{e:03d}" for e in epochs)


@dataclass(frozen=True)
class EpochSpan:
    """Consecutive target epochs of one setting that one job runs (``epochs_per_job``)."""

    setting: str
    first: int
    last: int

    @property
    def epochs(self) -> range:
        return range(self.first, self.last + 1)

    @property
    def name(self) -> str:
        """``001-006``: the span's part of its rule's name, log and benchmark file."""
        return f"{self.first:03d}-{self.last:03d}"


def epochs_per_job(config: Mapping) -> int:
    """How many target epochs one adaptation job runs (1: one job per stage and epoch)."""
    return int(config.get("epochs_per_job", 1))


def epoch_spans(config: Mapping) -> list[EpochSpan]:
    """The jobs of every setting in use when ``epochs_per_job`` > 1.

    Spans start at epoch 1 and at every multiple of ``epochs_per_job`` after it, so raising
    ``adapt.epochs`` changes only the last span (if it was short) and adds new ones: the
    finished spans keep their epochs and their params and are not run again.
    """
    size = epochs_per_job(config)
    spans = []
    for setting in settings_in_use(config):
        last = num_epochs(config, setting)
        spans += [
            EpochSpan(setting, first, min(first + size - 1, last))
            for first in range(1, last + 1, size)
        ]
    return spans


def span_of(config: Mapping, setting: str, epoch: int) -> EpochSpan:
    """The span of ``setting`` that runs ``epoch`` (one of ``epoch_spans``)."""
    return next(s for s in epoch_spans(config) if s.setting == setting and epoch in s.epochs)


def settings_in_use(config: Mapping) -> list[str]:
    """``uda``, and ``usl`` when the config lists datasets for it."""
    return ["uda"] + (["usl"] if config.get("usl_datasets") else [])


class EpochWildcards(dict):
    """An experiment's wildcards with one epoch of a span filled in, readable by item and by
    attribute as Snakemake's own, so a span's rule asks the one-epoch rules' input and params
    functions about each of its epochs."""

    def __getattr__(self, name: str) -> str:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def epoch_wildcards(wildcards: Mapping[str, str], epoch: int) -> EpochWildcards:
    """``wildcards`` (an experiment's) with ``epoch`` as the three-digit epoch wildcard."""
    return EpochWildcards({**dict(wildcards.items()), "epoch": f"{int(epoch):03d}"})
