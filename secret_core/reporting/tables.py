"""Paper tables from experiment summaries, beside the paper's reported values.

A table is a pandas DataFrame, one row per method; each method names a variant, the inference
feature and the epoch it reads ("final" or 0 for the starting point). Cells are the mean over
seeds, with the standard deviation when there are several seeds. Paper values appear only for tasks that are the
paper's (``paper_task`` in the config), so a synthetic stand-in is never compared with them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from secret_core.io import read_json, write_text
from secret_core.reporting.ranking import TRAINED, ranking_feature


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
    # The USL start is the configured init (random in the demo): the row says what the
    # pseudo-label epochs add to it.
    "table2": [TableRow("Initial network", "secret", "global", "start"), *_SECRET_ROWS],
    "table3": [
        TableRow("Baseline", "baseline"),
        TableRow("SECRET-MR", "secret_mr"),
        TableRow("naive SECRET", "naive_secret", TRAINED),
        TableRow("SECRET-T", "secret_t"),
        TableRow("SECRET-B", "secret_b"),
        TableRow("SECRET", "secret"),
        TableRow("SECRET(MT)", "secret_mt"),
        # Not the paper's: every branch trained on the target's true ids with the same
        # budget, what perfect pseudo labels would reach (the note gives the headroom).
        TableRow("SUP (true ids)", "sup"),
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
    reported = pd.read_csv(io.StringIO(text))
    return {
        (r.table, r.row, r.task): (float(r.mAP), float(r.rank1))
        for r in reported.itertuples(index=False)
    }


def row_metrics(summary: Mapping, row: TableRow) -> tuple[float, float]:
    """(mAP, Rank-1) in percent of one experiment summary for one table row."""
    block = summary["final"] if row.epoch == "final" else summary["start"]
    metrics = block[ranking_feature(summary, row.feature)]
    return 100.0 * float(metrics["mAP"]), 100.0 * float(metrics["rank1"])


METRICS = ("mAP", "R1")  # CSV column suffixes, in row_metrics' order
METRIC_NAMES = {"mAP": "mAP", "R1": "Rank-1"}  # Markdown headers


def _round(value: float) -> float:
    """Python's correctly rounded ``round(value, 2)``, which the CSV has always used (numpy's
    and pandas' scaled rounding can differ in the last digit)."""
    return round(float(value), 2)


def _rounded_for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """The table's float columns at 2 decimals. Only the CSV is rounded: the Markdown formats
    the unrounded values, since rounding twice (49.6516 to 49.65, then to 49.6) can move the
    one decimal that people read."""
    floats = table.select_dtypes("float").columns
    return table.assign(**{c: [_round(v) for v in table[c]] for c in floats})


def build_table(
    name: str,
    summaries: Mapping[tuple[str, str], Sequence[Mapping]],
    tasks: Sequence[str],
    paper_tasks: Mapping[str, str | None],
) -> pd.DataFrame:
    """Table ``name`` as a DataFrame, one row per method; ``summaries[(task, variant)]`` lists
    one summary per seed.

    Per task and metric: the mean over seeds; ``_std`` (sample std, NaN with one seed) when
    some row of the task has several seeds; ``_paper`` and ``_diff`` (mean minus paper) for
    tasks that are the paper's; then ``{task}_seeds``. Values are unrounded (``write_table``
    rounds the CSV); a missing experiment gives NaN, not an error.
    """
    paper = paper_results()
    specs = TABLE_ROWS[name]
    # Long form first: one row per (method, task, seed), the layout pandas aggregates.
    measured = pd.DataFrame.from_records(
        [
            (spec.label, task, *row_metrics(run, spec))
            for spec in specs
            for task in tasks
            for run in summaries.get((task, spec.variant), [])
        ],
        columns=["method", "task", *METRICS],
    )
    groups = measured.groupby(["method", "task"], sort=False)[list(METRICS)]
    # numpy's reductions, as the tables have always been computed (bit-identical means).
    mean = groups.agg(lambda v: float(np.mean(v.to_numpy())))
    std = groups.agg(lambda v: float(np.std(v.to_numpy(), ddof=1)) if len(v) > 1 else math.nan)
    seeds = measured.groupby(["method", "task"], sort=False).size()
    grid = pd.MultiIndex.from_tuples(
        [(spec.label, task) for spec in specs for task in tasks], names=["method", "task"]
    )
    mean, std, seeds = mean.reindex(grid), std.reindex(grid), seeds.reindex(grid, fill_value=0)

    table = pd.DataFrame({"method": [spec.label for spec in specs]})
    for task in tasks:
        rows = [(spec.label, task) for spec in specs]
        several_seeds = bool((seeds.loc[rows] > 1).any())
        paper_task = paper_tasks.get(task)
        for col, metric in enumerate(METRICS):
            key = f"{task}_{metric}"
            means = mean.loc[rows, metric].to_numpy()
            table[key] = means
            if several_seeds:
                table[f"{key}_std"] = std.loc[rows, metric].to_numpy()
            if paper_task:
                refs = [paper.get((name, spec.label, paper_task)) for spec in specs]
                ref_values = np.array([ref[col] if ref else math.nan for ref in refs])
                table[f"{key}_paper"] = ref_values
                table[f"{key}_diff"] = means - ref_values
        table[f"{task}_seeds"] = seeds.loc[rows].to_numpy()
    return table


def write_table(
    table: pd.DataFrame,
    csv_path: Path,
    md_path: Path,
    title: str,
    notes: Sequence[str] = (),
) -> None:
    """Write the CSV (machine-readable) and its Markdown twin (for people), each atomically
    (a temporary name, then a rename: a reader never sees half a table).

    Numbers not available (no run, no paper value, the std of one seed) are written ``nan``
    so every numeric cell parses with ``float``; a missing text value (no git commit) is empty.
    The CSV holds 2 decimals; the Markdown rounds the unrounded values once, to 1.
    """
    markdown = markdown_table(table, title, notes)
    table = _rounded_for_csv(table)
    numeric = table.select_dtypes("number").columns
    text = table.drop(columns=numeric).astype(object).where(table.notna(), "")
    csv_table = pd.concat([table[numeric], text], axis=1)[table.columns]
    write_text(csv_path, csv_table.to_csv(index=False, lineterminator="\n", na_rep="nan"))
    write_text(md_path, markdown)


def markdown_table(table: pd.DataFrame, title: str, notes: Sequence[str] = ()) -> str:
    """One column per task and metric: 'measured ± std (paper, diff)'; '–' when not run."""
    tasks = [c.removesuffix("_seeds") for c in table.columns if c.endswith("_seeds")]
    keys = {f"{t} {METRIC_NAMES[m]}": f"{t}_{m}" for t in tasks for m in METRICS}
    cells = pd.DataFrame({"Method": table["method"].astype(str)})
    for header, key in keys.items():
        cells[header] = [_cell(row, key) for _, row in table.iterrows()]
    lines = [f"# {title}", "", _markdown_row(cells.columns), "|" + "---|" * cells.shape[1]]
    lines += [_markdown_row(row) for row in cells.itertuples(index=False)]
    lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _markdown_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(row: pd.Series, key: str) -> str:
    value = row.get(key)
    if value is None or pd.isna(value):
        return "–"
    text = f"{value:.1f}"
    std = row.get(f"{key}_std")
    if std is not None and pd.notna(std):
        text += f" ± {std:.1f}"
    paper = row.get(f"{key}_paper")
    if paper is not None and pd.notna(paper):
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
