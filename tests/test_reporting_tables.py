"""Table rule on small fabricated experiment summaries."""

import csv
import math

import pytest

from secret_core.reporting.tables import build_table, paper_results, write_table


def summary(m_global: float, m_joint: float, start: float = 0.1) -> dict:
    def metrics(v: float) -> dict:
        return {"mAP": v, "rank1": min(1.0, v + 0.1)}

    return {
        "start": {"global": metrics(start), "joint": metrics(start)},
        "final": {"global": metrics(m_global), "joint": metrics(m_joint)},
    }


def test_paper_values_transcribed():
    paper = paper_results()
    assert paper[("table1", "SECRET", "duke2market")] == (79.8, 92.3)
    assert paper[("table1", "SECRET-Joint(MT)", "market2msmt")] == (31.7, 60.0)
    assert paper[("table3", "Baseline", "market2duke")] == (56.5, 73.2)


def test_mean_and_std_over_seeds_and_paper_columns(tmp_path):
    summaries = {
        ("d2m", "secret"): [summary(0.5, 0.6), summary(0.7, 0.8)],
        ("d2m", "secret_mt"): [summary(0.4, 0.45), summary(0.6, 0.65)],
    }
    rows = build_table("table1", summaries, ["d2m"], {"d2m": "duke2market"})
    by_method = {r["method"]: r for r in rows}
    secret = by_method["SECRET"]
    assert secret["d2m_mAP"] == pytest.approx(60.0)
    assert secret["d2m_mAP_std"] == pytest.approx(14.14, abs=0.01)
    assert secret["d2m_mAP_paper"] == 79.8
    assert secret["d2m_mAP_diff"] == pytest.approx(60.0 - 79.8)
    assert by_method["SECRET-Joint"]["d2m_mAP"] == pytest.approx(70.0)
    assert by_method["Source only"]["d2m_mAP"] == pytest.approx(10.0)
    assert "d2m_mAP_paper" not in build_table("table1", summaries, ["d2m"], {"d2m": None})[0]

    write_table(rows, tmp_path / "t.csv", tmp_path / "t.md", "Table 1")
    with open(tmp_path / "t.csv") as fh:
        read = list(csv.DictReader(fh))
    assert [r["method"] for r in read] == [r["method"] for r in rows]
    text = (tmp_path / "t.md").read_text()
    assert "60.0 ± 14.1 (paper 79.8, -19.8)" in text


def test_missing_experiment_gives_nan_not_crash():
    rows = build_table("table1", {}, ["d2m"], {"d2m": None})
    assert math.isnan(rows[0]["d2m_mAP"])
