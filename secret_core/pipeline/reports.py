"""Report stages: the paper's tables from experiment summaries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secret_core.reporting.tables import build_table, load_summaries, write_table

TITLES = {
    "table1": "Table 1: UDA person re-ID (mAP / Rank-1, %)",
}


def make_table(
    summary_paths: Sequence[str], settings: dict[str, Any], csv_path: str, md_path: str
) -> None:
    name = settings["name"]
    rows = build_table(
        name, load_summaries(summary_paths), settings["tasks"], settings["paper_tasks"]
    )
    notes = ["Measured at the final epoch. 'Source only' is the starting model (epoch 0)."]
    stand_ins = {t: p for t, p in settings.get("stands_in_for", {}).items() if p}
    if stand_ins:
        pairs = ", ".join(f"{t} stands in for {p}" for t, p in stand_ins.items())
        notes.append(
            f"Synthetic stand-ins ({pairs}): paper values are not comparable and are not shown."
        )
    write_table(rows, Path(csv_path), Path(md_path), TITLES.get(name, name), notes)
