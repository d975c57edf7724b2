"""Table rule on small fabricated experiment summaries."""

import csv
import math

import pytest

from secret_core.reporting.tables import (
    TABLE_ROWS,
    TRAINED,
    TableRow,
    build_table,
    paper_results,
    row_metrics,
    write_table,
)


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
    table = build_table("table1", summaries, ["d2m"], {"d2m": "duke2market"})
    by_method = table.set_index("method").to_dict("index")
    secret = by_method["SECRET"]
    assert secret["d2m_mAP"] == pytest.approx(60.0)
    assert secret["d2m_mAP_std"] == pytest.approx(14.14, abs=0.01)
    assert secret["d2m_mAP_paper"] == 79.8
    assert secret["d2m_mAP_diff"] == pytest.approx(60.0 - 79.8)
    assert by_method["SECRET-Joint"]["d2m_mAP"] == pytest.approx(70.0)
    assert by_method["Source only"]["d2m_mAP"] == pytest.approx(10.0)
    assert "d2m_mAP_paper" not in build_table("table1", summaries, ["d2m"], {"d2m": None})

    write_table(table, tmp_path / "t.csv", tmp_path / "t.md", "Table 1")
    with open(tmp_path / "t.csv") as fh:
        read = list(csv.DictReader(fh))
    assert [r["method"] for r in read] == list(table["method"])
    text = (tmp_path / "t.md").read_text()
    assert "60.0 ± 14.1 (paper 79.8, -19.8)" in text


def test_missing_experiment_gives_nan_not_crash():
    table = build_table("table1", {}, ["d2m"], {"d2m": None})
    assert math.isnan(table.loc[0, "d2m_mAP"]) and table.loc[0, "d2m_seeds"] == 0


def test_csv_and_markdown_formats(tmp_path):
    """The file formats, byte for byte: one seed gives no std columns; a method without runs
    is ``nan`` in the CSV (every numeric cell parses) and '–' in the Markdown."""
    summaries = {("d2m", "secret"): [summary(0.41234, 0.5)]}
    table = build_table("table1", summaries, ["d2m", "m2d"], {"d2m": "duke2market"})
    write_table(table, tmp_path / "t.csv", tmp_path / "t.md", "Table 1", ["A note."])
    csv_lines = (tmp_path / "t.csv").read_text().splitlines()
    assert csv_lines[0] == (
        "method,d2m_mAP,d2m_mAP_paper,d2m_mAP_diff,d2m_R1,d2m_R1_paper,d2m_R1_diff,d2m_seeds,"
        "m2d_mAP,m2d_R1,m2d_seeds"
    )
    assert csv_lines[2] == "SECRET,41.23,79.8,-38.57,51.23,92.3,-41.07,1,nan,nan,0"
    assert csv_lines[4] == "SECRET(MT),nan,82.9,nan,nan,93.1,nan,0,nan,nan,0"
    assert (tmp_path / "t.md").read_text() == (
        "# Table 1\n\n"
        "| Method | d2m mAP | d2m Rank-1 | m2d mAP | m2d Rank-1 |\n"
        "|---|---|---|---|---|\n"
        "| Source only | 10.0 | 20.0 | – | – |\n"
        "| SECRET | 41.2 (paper 79.8, -38.6) | 51.2 (paper 92.3, -41.1) | – | – |\n"
        "| SECRET-Joint | 50.0 (paper 79.9, -29.9) | 60.0 (paper 92.3, -32.3) | – | – |\n"
        "| SECRET(MT) | – | – | – | – |\n"
        "| SECRET-Joint(MT) | – | – | – | – |\n"
        "\nA note.\n"
    )


def test_std_is_nan_for_a_single_seed_beside_several(tmp_path):
    summaries = {
        ("d2m", "secret"): [summary(0.5, 0.6), summary(0.7, 0.8)],
        ("d2m", "secret_mt"): [summary(0.4, 0.45)],
    }
    table = build_table("table1", summaries, ["d2m"], {"d2m": None})
    write_table(table, tmp_path / "t.csv", tmp_path / "t.md", "Table 1")
    with open(tmp_path / "t.csv") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    assert rows["SECRET"]["d2m_mAP_std"] == "14.14" and rows["SECRET(MT)"]["d2m_mAP_std"] == "nan"
    assert "| SECRET(MT) | 40.0 | 50.0 |" in (tmp_path / "t.md").read_text()


def test_unsupervised_table_shows_the_initial_network():
    # Table 2 must say what the epochs add to the configured init (random in the demo).
    summaries = {("m", "secret"): [summary(0.3, 0.35, start=0.02)]}
    table = build_table("table2", summaries, ["m"], {"m": None}).set_index("method")
    assert list(table.index)[:2] == ["Initial network", "SECRET"]
    assert table.loc["Initial network", "m_mAP"] == pytest.approx(2.0)
    assert table.loc["SECRET", "m_mAP"] == pytest.approx(30.0)


def test_start_clusters_note_explains_an_uninformative_start():
    from secret_core.pipeline.reports import start_clusters_note

    def run(precision: float) -> dict:
        return {"epochs": [{"epoch": 0}, {"epoch": 1, "trained_pair_precision": precision}]}

    random_start = start_clusters_note({("m", "secret"): [run(0.01), run(0.03)]})
    assert "precision 2.0% (1.0-3.0% over 2 experiments)" in random_start
    assert "can gain little over it" in random_start
    warm_start = start_clusters_note({("m", "secret"): [run(0.6)]})
    assert "60.0%" in warm_start and "can gain little" not in warm_start
    assert start_clusters_note({("m", "secret"): [{"epochs": [{"epoch": 0}]}]}) is None


def test_mean_teacher_note_names_the_tasks_where_it_falls_below():
    from secret_core.pipeline.reports import mean_teacher_note

    def run(m_ap, iterations=(44, 44, 44)):
        epochs = [{"epoch": 0}] + [
            {"epoch": e + 1, "train_iterations": n} for e, n in enumerate(iterations)
        ]
        return {"final": {"global": {"mAP": m_ap}}, "epochs": epochs}

    summaries = {
        ("a", "secret"): [run(0.60), run(0.62)],
        ("a", "secret_mt"): [run(0.50), run(0.55)],  # mean 0.525 < 0.61
        ("b", "secret"): [run(0.70)],
        ("b", "secret_mt"): [run(0.71)],  # above: not named
    }
    note = mean_teacher_note(summaries)
    assert note is not None and "on a (-8.5) mAP after 132 training iterations" in note
    assert "32,000" in note and "a, b" not in note
    summaries[("a", "secret_mt")] = [run(0.65)]
    assert mean_teacher_note(summaries) is None
    assert mean_teacher_note({("a", "secret_mt"): [run(0.1)]}) is None  # nothing to compare
    summaries[("a", "secret_mt")] = [run(0.6099)]  # 0.01 below: printed -0.0, a tie
    assert mean_teacher_note(summaries) is None


def test_training_set_note_gives_each_method_share_at_epoch_one_and_at_the_end():
    from secret_core.pipeline.reports import training_set_note

    def run(*trained: int, total: int = 200) -> dict:
        epochs = [{"epoch": 0, "trained_samples": None, "num_samples": total}]
        epochs += [
            {"epoch": e + 1, "trained_samples": n, "num_samples": total}
            for e, n in enumerate(trained)
        ]
        return {"epochs": list(reversed(epochs))}  # order in the file must not matter

    summaries = {
        ("m2d", "secret"): [run(20, 50, 60), run(32, 70, 80)],  # 10%, 16% -> 30%, 40%
        ("m2d", "baseline"): [run(180, 190, 196)],
        ("d2m", "secret_mt"): [run(100, 150)],  # not a compared variant
        ("d2m", "secret"): [run(100, 150)],
    }
    note = training_set_note(summaries)
    assert note is not None
    assert "d2m: SECRET 50% → 75%; m2d: Baseline 90% → 98%, SECRET 13% → 35%." in note
    assert training_set_note({("d2m", "secret_mt"): [run(100)]}) is None
    assert training_set_note({("d2m", "secret"): [{"epochs": [{"epoch": 0}]}]}) is None


def test_naive_secret_row_ranks_with_what_it_trained():
    from secret_core.pipeline.reports import concatenation_note

    def run(loss_on=None):
        variant = {"cluster_on": "concat"} | ({"loss_on": loss_on} if loss_on else {})
        final = {
            "global": {"mAP": 0.50, "rank1": 0.6},
            "concat": {"mAP": 0.70, "rank1": 0.8},
        }
        return {"variant": variant, "final": final}

    row = TableRow("naive SECRET", "naive_secret", TRAINED)
    assert row_metrics(run("concat"), row) == pytest.approx((70.0, 80.0))
    assert row_metrics(run("branches"), row) == pytest.approx((50.0, 60.0))
    assert row_metrics(run(), row) == pytest.approx((50.0, 60.0))
    assert [r.feature for r in TABLE_ROWS["table3"] if r.variant == "naive_secret"] == [TRAINED]
    note = concatenation_note(
        {("m2d", "naive_secret"): [run("concat")], ("m2d", "secret"): [run()]}
    )
    assert note is not None and "loss_on: concat" in note and "m2d 50.0 mAP" in note
    assert concatenation_note({("m2d", "naive_secret"): [run()]}) is None


def test_start_spaces_note_gives_each_space_at_epoch_zero_averaged_over_seeds():
    from secret_core.pipeline.reports import start_spaces_note

    def run(g: float, t: float, b: float) -> dict:
        later = {"epoch": 1, "global_mAP": 0.9, "top_mAP": 0.9, "bottom_mAP": 0.9}
        return {"epochs": [later, {"epoch": 0, "global_mAP": g, "top_mAP": t, "bottom_mAP": b}]}

    summaries = {
        ("m2d", "secret"): [run(0.40, 0.20, 0.50), run(0.50, 0.30, 0.60)],
        ("m2d", "baseline"): [run(0.99, 0.99, 0.99)],  # only SECRET's runs are read
        ("d2m", "secret"): [run(0.801, 0.675, 0.750)],
    }
    note = start_spaces_note(summaries)
    assert note is not None
    assert "global / top / bottom: d2m 80.1 / 67.5 / 75.0; m2d 45.0 / 25.0 / 55.0." in note
    unevaluated = {"epochs": [{"epoch": 0, "global_mAP": 0.5}]}  # a run without local spaces
    assert start_spaces_note({("d2m", "secret"): [unevaluated]}) is None
    assert start_spaces_note({("d2m", "baseline"): [run(0.5, 0.5, 0.5)]}) is None


def test_markdown_rounds_the_measured_value_once(tmp_path):
    """49.6516 is 49.65 in the CSV (2 decimals) and 49.7 in the Markdown, not 49.6: rounding the
    CSV's 49.65 again would give 49.6, since 49.65 is stored just below it."""
    summaries = {("d2m", "secret"): [summary(0.496516, 0.5)]}
    table = build_table("table1", summaries, ["d2m"], {"d2m": None})
    write_table(table, tmp_path / "t.csv", tmp_path / "t.md", "Table 1")
    with open(tmp_path / "t.csv") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    assert rows["SECRET"]["d2m_mAP"] == "49.65"
    assert "| SECRET | 49.7 | 59.7 |" in (tmp_path / "t.md").read_text()


def test_label_headroom_note_gives_sup_minus_baseline_and_secrets_share():
    """Baseline 81 and SUP 86 (means of two seeds) leave 5 points to better labels; SECRET at
    84 takes 3 of them. A task without its SUP runs is left out, not guessed."""
    from secret_core.pipeline.reports import label_headroom_note

    summaries = {
        ("d2m", "baseline"): [summary(0.80, 0.8), summary(0.82, 0.8)],
        ("d2m", "sup"): [summary(0.85, 0.9), summary(0.87, 0.9)],
        ("d2m", "secret"): [summary(0.84, 0.9), summary(0.84, 0.9)],
        ("m2d", "baseline"): [summary(0.5, 0.5)],
        ("m2d", "secret"): [summary(0.6, 0.6)],
    }
    note = label_headroom_note(summaries)
    assert "d2m +5.0 (SECRET +3.0)" in note
    assert "m2d" not in note
    assert label_headroom_note({("m2d", "baseline"): [summary(0.5, 0.5)]}) is None


def test_table3_ends_with_the_true_label_row():
    assert TABLE_ROWS["table3"][-1] == TableRow("SUP (true ids)", "sup")
