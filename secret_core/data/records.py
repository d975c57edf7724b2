"""The dataset record types every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Record(NamedTuple):
    """One image: its path, person id (raw, as in the file name) and 0-based camera id."""

    path: str
    pid: int
    camid: int


def split_stats(records: list[Record]) -> dict[str, int]:
    return {
        "ids": len({r.pid for r in records}),
        "images": len(records),
        "cameras": len({r.camid for r in records}),
    }


@dataclass
class ReidDataset:
    """A Re-ID dataset: labelled train split and the query/gallery evaluation splits."""

    name: str
    root: str
    layout: str
    train: list[Record] = field(default_factory=list)
    query: list[Record] = field(default_factory=list)
    gallery: list[Record] = field(default_factory=list)

    def stats(self) -> dict[str, dict[str, int]]:
        return {split: split_stats(getattr(self, split)) for split in ("train", "query", "gallery")}

    def summary(self) -> str:
        """One line a user can check against the dataset's published statistics."""
        parts = [
            f"{split} {s['ids']} ids / {s['images']} images / {s['cameras']} cams"
            for split, s in self.stats().items()
        ]
        return f"{self.name} ({self.layout}): " + "; ".join(parts)
