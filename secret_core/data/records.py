"""The record types every dataset reader returns.

Readers only parse file names and list files, so a whole dataset is a few lists of small
tuples: cheap enough to re-read in every job instead of passing images around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

SPLITS: tuple[str, str, str] = ("train", "query", "gallery")


class Record(NamedTuple):
    """One image: its path, raw person id (as in the file name) and 0-based camera id.

    The pid is kept raw (not relabelled) so that ground truth stays comparable across splits
    and with published statistics; :func:`secret_core.refinement.labels.reindex` makes class indices.
    """

    path: str
    pid: int
    camid: int


def split_stats(records: list[Record]) -> dict[str, int]:
    """Identities, images and cameras of one split (the numbers papers report)."""
    return {
        "ids": len({r.pid for r in records}),
        "images": len(records),
        "cameras": len({r.camid for r in records}),
    }


@dataclass
class ReidDataset:
    """A Re-ID dataset: the labelled train split and the query/gallery evaluation splits."""

    name: str
    root: str
    layout: str
    train: list[Record] = field(default_factory=list)
    query: list[Record] = field(default_factory=list)
    gallery: list[Record] = field(default_factory=list)

    def stats(self) -> dict[str, dict[str, int]]:
        """``{split: {"ids", "images", "cameras"}}`` for train, query and gallery."""
        return {split: split_stats(getattr(self, split)) for split in SPLITS}

    def summary(self) -> str:
        """One line a user can check against the dataset's published statistics."""
        parts = [
            f"{split} {s['ids']} ids / {s['images']} images / {s['cameras']} cams"
            for split, s in self.stats().items()
        ]
        return f"{self.name} ({self.layout}): " + "; ".join(parts)
