"""What one ablation step changes in the training set, epoch by epoch, and what mAP it buys.

    python benchmarks/ablation_gaps.py --results DIR/results [DIR2/results ...] \
        --task duke2market market2duke --variants secret secret_b

For each task and each seed that both variants have (the first ``--results`` folder holding
an experiment wins), it reads the two experiments' ``summary.json`` (their ``history.csv``
rows) and prints A − B, averaged over the epochs that have the column:

* ``pair P`` / ``pair R``: the precision and recall of the same-identity pairs among the
  images that train (``trained_pair_precision`` / ``_recall``), in points;
* ``refined``: the global branch's refined label accuracy (the paper's Figure 5 measure);
* ``images``: how many images train;
* ``mAP mean`` over the evaluated epochs and ``mAP final`` at the last one.

Then each task's means, and over all task-seeds the correlation of the mAP gaps with the
precision and the recall gaps. Issue 11 asked why SECRET ties SECRET-B on the demo's tasks
but leads it on the real-image stand-in: the extra filter (the top space's) trades recall
for precision, and this prints that exchange beside what it buys.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = {
    "pair P": "trained_pair_precision",
    "pair R": "trained_pair_recall",
    "refined": "global_refined_accuracy",
}
POINTS = 100.0


def history(results: list[Path], task: str, variant: str, seed: int) -> pd.DataFrame | None:
    """The experiment's per-epoch rows (epochs >= 1), from the first folder that has it."""
    for root in results:
        path = root / "uda" / task / variant / f"seed{seed}" / "summary.json"
        if path.is_file():
            rows = pd.DataFrame(json.loads(path.read_text())["epochs"])
            return rows[rows["epoch"] >= 1].set_index("epoch")
    return None


def seeds_of(results: list[Path], task: str, variant: str) -> set[int]:
    found = set()
    for root in results:
        for path in (root / "uda" / task / variant).glob("seed*/summary.json"):
            found.add(int(path.parent.name.removeprefix("seed")))
    return found


def _gap(a: pd.DataFrame, b: pd.DataFrame, column: str) -> pd.Series:
    """A − B per epoch where both have the column (NaN rows left out)."""
    if column not in a or column not in b:
        return pd.Series(dtype=float)
    return (a[column] - b[column]).dropna()


def pair_gaps(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float]:
    """One task-seed's gaps, A − B (see the module docstring)."""
    row = {name: POINTS * _gap(a, b, col).mean() for name, col in COLUMNS.items()}
    row["images"] = _gap(a, b, "trained_samples").mean()
    mAP = POINTS * _gap(a, b, "global_mAP")
    row["mAP mean"] = mAP.mean()
    row["mAP final"] = mAP.iloc[-1] if len(mAP) else float("nan")
    return row


def gap_table(results: list[Path], tasks: list[str], a: str, b: str) -> pd.DataFrame:
    rows = []
    for task in tasks:
        for seed in sorted(seeds_of(results, task, a) & seeds_of(results, task, b)):
            first, second = history(results, task, a, seed), history(results, task, b, seed)
            rows.append({"task": task, "seed": seed, **pair_gaps(first, second)})
    return pd.DataFrame(rows)


def correlations(table: pd.DataFrame) -> dict[str, float]:
    """Pearson correlation over task-seeds of each mAP gap with the pair precision and
    recall gaps (NaN with fewer than three task-seeds)."""
    out = {}
    for target in ("mAP mean", "mAP final"):
        for driver in ("pair P", "pair R"):
            pair = table[[target, driver]].dropna()
            out[f"{target} ~ {driver}"] = (
                float(np.corrcoef(pair[driver], pair[target])[0, 1])
                if len(pair) >= 3
                else float("nan")
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, nargs="+", required=True)
    parser.add_argument("--task", nargs="+", required=True)
    parser.add_argument("--variants", nargs=2, default=["secret", "secret_b"], metavar=("A", "B"))
    args = parser.parse_args()
    a, b = args.variants
    table = gap_table(args.results, args.task, a, b)
    if table.empty:
        raise SystemExit(f"no seed has both {a} and {b} under {', '.join(map(str, args.results))}")
    print(f"{a} − {b}, mean over epochs (points; images: count)")
    print(table.round(1).to_string(index=False))
    print("\nper task")
    print(table.drop(columns="seed").groupby("task").mean().round(1).to_string())
    print(f"\nover {len(table)} task-seeds, correlation of the mAP gaps with the training set's")
    for name, value in correlations(table).items():
        print(f"  {name}: {value:+.2f}")


if __name__ == "__main__":
    main()
