"""benchmarks/ablation_gaps.py: hand-worked gaps between two variants' epoch histories."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from ablation_gaps import correlations, gap_table  # noqa: E402


def write(results: Path, task: str, variant: str, seed: int, epochs: list[dict]) -> None:
    """A summary.json holding only the history rows the script reads (epoch 0 first, as the
    workflow writes it, with no training-set columns)."""
    path = results / "uda" / task / variant / f"seed{seed}" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"epoch": 0, "global_mAP": 0.30}, *epochs]
    path.write_text(json.dumps({"epochs": rows}))


def epoch(e: int, p: float, r: float, acc: float, n: int, mAP: float | None) -> dict:
    row = {
        "epoch": e,
        "trained_pair_precision": p,
        "trained_pair_recall": r,
        "global_refined_accuracy": acc,
        "trained_samples": n,
    }
    if mAP is not None:  # evaluated epochs only, as eval_every leaves the others empty
        row["global_mAP"] = mAP
    return row


@pytest.fixture
def two_variants(tmp_path):
    first, second = tmp_path / "a" / "results", tmp_path / "b" / "results"
    # seed 1: A gains precision and loses recall; evaluated at epochs 2 and 3 only
    write(first, "t", "secret", 1, [
        epoch(1, 0.80, 0.40, 0.90, 100, None),
        epoch(2, 0.90, 0.50, 0.92, 200, 0.60),
        epoch(3, 0.90, 0.60, 0.94, 300, 0.70),
    ])  # fmt: skip
    write(first, "t", "secret_b", 1, [
        epoch(1, 0.70, 0.50, 0.85, 150, None),
        epoch(2, 0.80, 0.60, 0.90, 250, 0.61),
        epoch(3, 0.84, 0.66, 0.91, 320, 0.69),
    ])  # fmt: skip
    # seed 2 lives in the second folder; seed 3 has only one variant and is left out
    write(second, "t", "secret", 2, [epoch(1, 0.5, 0.5, 0.5, 10, 0.5)])
    write(second, "t", "secret_b", 2, [epoch(1, 0.4, 0.7, 0.6, 30, 0.45)])
    write(second, "t", "secret", 3, [epoch(1, 0.5, 0.5, 0.5, 10, 0.5)])
    # the first folder wins: this copy of seed 1 must not be read
    write(second, "t", "secret", 1, [epoch(1, 0.0, 0.0, 0.0, 0, 0.0)])
    return [first, second]


def test_gaps_are_hand_worked_means_over_epochs(two_variants):
    table = gap_table(two_variants, ["t"], "secret", "secret_b").set_index("seed")
    assert table.index.tolist() == [1, 2]
    one = table.loc[1]
    # precision gaps 10, 10, 6 points; recall -10, -10, -6; accuracy 5, 2, 3; images -50, -50, -20
    assert one["pair P"] == pytest.approx(26 / 3)
    assert one["pair R"] == pytest.approx(-26 / 3)
    assert one["refined"] == pytest.approx(10 / 3)
    assert one["images"] == pytest.approx(-40)
    # mAP over the evaluated epochs 2 and 3 (epoch 0, the shared start, left out): -1 and +1
    assert one["mAP mean"] == pytest.approx(0.0)
    assert one["mAP final"] == pytest.approx(1.0)
    two = table.loc[2]
    assert (two["pair P"], two["pair R"], two["mAP final"]) == pytest.approx((10, -20, 5))


def test_correlations_need_three_task_seeds(two_variants):
    table = gap_table(two_variants, ["t"], "secret", "secret_b")
    assert all(math.isnan(v) for v in correlations(table).values())
    extra = {
        "task": "u",
        "seed": 1,
        "pair P": 0.0,
        "pair R": 0.0,
        "mAP mean": 2.0,
        "mAP final": 3.0,
    }
    three = pd.concat([table, pd.DataFrame([extra])], ignore_index=True)
    found = correlations(three)
    # mAP final 1, 5, 3 against precision gaps 26/3, 10, 0: computed by hand from the
    # definition, not by the code under test
    x, y = [26 / 3, 10.0, 0.0], [1.0, 5.0, 3.0]
    mx, my = sum(x) / 3, sum(y) / 3
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    var = sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y)
    assert found["mAP final ~ pair P"] == pytest.approx(cov / math.sqrt(var))


def test_command_line_prints_the_table_and_fails_clearly_without_pairs(two_variants, tmp_path):
    script = str(ROOT / "benchmarks" / "ablation_gaps.py")
    results = [str(p) for p in two_variants]
    run = subprocess.run(
        [sys.executable, script, "--results", *results, "--task", "t"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "secret − secret_b" in run.stdout and "mAP final ~ pair R" in run.stdout
    empty = subprocess.run(
        [sys.executable, script, "--results", str(tmp_path / "none"), "--task", "t"],
        capture_output=True,
        text=True,
    )
    assert empty.returncode != 0 and "no seed has both secret and secret_b" in empty.stderr
