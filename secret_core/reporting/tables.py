"""Paper tables from experiment summaries, beside the paper's reported values.

A table is a list of rows; each row names a variant, the inference feature and the epoch it
reads ("final" or 0 for the starting point). Cells are the mean over seeds, with the standard
deviation when there are several seeds. Paper values appear only for tasks that are the
paper's (``paper_task`` in the config), so a synthetic stand-in is never compared with them.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from secret_core.io import read_json, write_text


@dataclass(frozen=True)
class TableRow:
    label: str
    variant: str
    feature: str = "global"
    epoch: str = "final"


_SECRET_ROWS = [
    TableRow("SECRET", "secret", "global"),
    TableRow("SECRET-Joint", "secret", "joint"),
    TableRow("SECRET(MT)", "secret_mt", "global"),
    TableRow("SECRET-Joint(MT)", "secret_mt", "joint"),
]
TABLE_ROWS: dict[str, list[TableRow]] = {
    "table1": [TableRow("Source only", "secret", "global", "start"), *_SECRET_ROWS],
    "table2": _SECRET_ROWS,
    "table3": [
        TableRow("Baseline", "baseline"),
        TableRow("SECRET-MR", "secret_mr"),
        TableRow("naive SECRET", "naive_secret"),
        TableRow("SECRET-T", "secret_t"),
        TableRow("SECRET-B", "secret_b"),
        TableRow("SECRET", "secret"),
        TableRow("SECRET(MT)", "secret_mt"),
    ],
    "table4": [
        TableRow("Global", "secret", "global"),
        TableRow("Local-Top", "secret", "top"),
        TableRow("Local-Bottom", "secret", "bottom"),
        TableRow("Joint", "secret", "joint"),
    ],
}
TABLE_SETTING = {"table1": "uda", "table2": "usl", "table3": "uda", "table4": "uda"}
TABLE_TITLES = {
    "table1": "Table 1: UDA person re-ID (mAP / Rank-1, %)",
    "table2": "Table 2: fully unsupervised person re-ID (mAP / Rank-1, %)",
    "table3": "Table 3: ablation of mutual refinement (mAP / Rank-1, %)",
    "table4": "Table 4: inference feature of SECRET (mAP / Rank-1, %)",
}


def paper_results() -> dict[tuple[str, str, str], tuple[float, float]]:
    """(table, row, paper task) -> (mAP, Rank-1) in percent, transcribed from the paper."""
    text = resources.files("secret_core.reporting").joinpath("paper_results.csv").read_text()
    return {
        (r["table"], r["row"], r["task"]): (float(r["mAP"]), float(r["rank1"]))
        for r in csv.DictReader(io.StringIO(text))
    }


def row_metrics(summary: Mapping, row: TableRow) -> tuple[float, float]:
    """(mAP, Rank-1) in percent of one experiment summary for one table row."""
    block = summary["final"] if row.epoch == "final" else summary["start"]
    metrics = block[row.feature]
    return 100.0 * float(metrics["mAP"]), 100.0 * float(metrics["rank1"])


def build_table(
    name: str,
    summaries: Mapping[tuple[str, str], Sequence[Mapping]],
    tasks: Sequence[str],
    paper_tasks: Mapping[str, str | None],
) -> list[dict[str, object]]:
    """Rows of table ``name``; ``summaries[(task, variant)]`` lists one summary per seed."""
    paper = paper_results()
    rows = []
    for spec in TABLE_ROWS[name]:
        out: dict[str, object] = {"method": spec.label}
        for task in tasks:
            runs = summaries.get((task, spec.variant), [])
            values = np.array([row_metrics(s, spec) for s in runs], dtype=float).reshape(-1, 2)
            for col, metric in enumerate(("mAP", "R1")):
                mean = float(values[:, col].mean()) if len(values) else math.nan
                out[f"{task}_{metric}"] = round(mean, 2)
                if len(values) > 1:
                    out[f"{task}_{metric}_std"] = round(float(values[:, col].std(ddof=1)), 2)
                paper_task = paper_tasks.get(task)
                if paper_task:
                    ref = paper.get((name, spec.label, paper_task))
                    ref_value = ref[col] if ref else math.nan
                    out[f"{task}_{metric}_paper"] = ref_value
                    out[f"{task}_{metric}_diff"] = round(mean - ref_value, 2)
            out[f"{task}_seeds"] = len(values)
        rows.append(out)
    return rows


def write_table(
    rows: Sequence[Mapping[str, object]],
    csv_path: Path,
    md_path: Path,
    title: str,
    notes: Sequence[str] = (),
) -> None:
    """Write the CSV (machine-readable) and its Markdown twin (for people), atomically."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(csv_path, buf.getvalue())
    write_text(md_path, markdown_table(rows, title, notes))


def markdown_table(
    rows: Sequence[Mapping[str, object]], title: str, notes: Sequence[str] = ()
) -> str:
    """One column per task and metric: 'measured ± std (paper, diff)'."""
    tasks = list(dict.fromkeys(k.rsplit("_", 1)[0] for k in rows[0] if k.endswith("_seeds")))
    header = ["Method"] + [f"{t} {m}" for t in tasks for m in ("mAP", "Rank-1")]
    lines = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row["method"])]
        for task in tasks:
            for metric in ("mAP", "R1"):
                cells.append(_cell(row, f"{task}_{metric}"))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _cell(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:.1f}"
    if f"{key}_std" in row:
        text += f" ± {row[f'{key}_std']:.1f}"
    paper = row.get(f"{key}_paper")
    if isinstance(paper, float) and not math.isnan(paper):
        text += f" (paper {paper:.1f}, {row[f'{key}_diff']:+.1f})"
    return text


def load_summaries(paths: Sequence[str | Path]) -> dict[tuple[str, str], list[dict]]:
    """Group experiment summaries by (task, variant), seeds in path order."""
    grouped: dict[tuple[str, str], list[dict]] = {}
    for path in paths:
        summary = read_json(path)
        run = summary["run"]
        grouped.setdefault((run["task"], run["variant"]), []).append(summary)
    return grouped
