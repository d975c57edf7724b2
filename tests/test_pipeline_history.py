"""The diagnosis columns of history.csv: training-set purity and coverage, passes, train accuracy."""

import csv

import numpy as np

from secret_core.io import write_json
from secret_core.pipeline.pseudo_labels import training_set_stats
from secret_core.pipeline.summary import summarize_experiment


def test_training_set_stats_count_only_samples_kept_in_every_branch():
    gt = np.array([1, 1, 1, 2, 2, 2, 3, 3])
    labels = np.array([0, 0, 0, 0, 1, 1, 2, -1])  # cluster 0 mixes ids 1 and 2
    keep = np.array([True, True, False, True, True, True, False, False])
    out = training_set_stats(labels, keep, gt)
    assert out["num_samples"] == 8 and out["true_ids"] == 3
    assert out["coverage"] == 5 / 8
    assert out["trained_ids"] == 2 and out["trained_clusters"] == 2
    # kept cluster 0 = {1, 1, 2}: 2/3 clean; kept cluster 1 = {2, 2}: clean
    assert np.isclose(out["trained_accuracy"], (2 / 3 + 1.0) / 2)


def test_training_set_stats_pairs_count_only_the_kept_samples():
    gt = np.array([1, 1, 1, 2, 2])
    cams = np.array([0, 0, 1, 0, 1])
    labels = np.array([0, 0, 0, 1, 1])
    keep = np.array([True, True, False, True, True])  # id 1's camera-1 image does not train
    out = training_set_stats(labels, keep, gt, cams)
    # same-id pairs: 3 (id 1) + 1 (id 2); trained joins (0,1) and (3,4): both correct
    assert out["trained_pair_precision"] == 1.0 and out["trained_pair_recall"] == 2 / 4
    # cross-camera same-id pairs: 2 (id 1) + 1 (id 2); trained joins only id 2's
    assert out["trained_cross_camera_recall"] == 1 / 3
    assert out["trained_cross_camera_share"] == 1 / 2


def test_training_set_stats_with_nothing_kept():
    out = training_set_stats(np.array([-1, -1]), np.array([False, False]), np.array([1, 2]))
    assert out["coverage"] == 0.0 and out["trained_accuracy"] is None


def test_history_has_the_diagnosis_columns(tmp_path):
    features = {"global": {"mAP": 0.5, "rank1": 0.6}}
    files = []
    for epoch in (0, 1):
        path = tmp_path / f"e{epoch}" / "eval.json"
        write_json(path, {"epoch": epoch, "features": features})
        files.append(str(path))
    refine = {
        "epoch": 1,
        "clustered": {"global": {"num_clusters": 9, "num_outliers": 4, "accuracy": 0.7}},
        "refined": {"global": {"accuracy": 0.9, "num_labelled": 40}},
        "trained_samples": 40,
        "num_samples": 100,
        "true_ids": 10,
        "coverage": 0.4,
        "trained_ids": 8,
        "trained_clusters": 9,
        "trained_accuracy": 0.9,
    }
    train = {
        "epoch": 1,
        "losses": {"total": 2.0},
        "iterations": 10,
        "samples_seen": 320,
        "trained_samples": 40,
        "accuracy": {"global": 0.95},
    }
    for name, record in (("refine.json", refine), ("train.json", train)):
        write_json(tmp_path / "e1" / name, record)
        files.append(str(tmp_path / "e1" / name))
    settings = {"epochs": 1, "run": {"task": "t"}, "variant": {"label": "v"}}
    summarize_experiment(files, settings, str(tmp_path / "s.json"), str(tmp_path / "h.csv"))
    rows = list(csv.DictReader((tmp_path / "h.csv").read_text().splitlines()))
    row = rows[1]
    assert row["true_ids"] == "10" and row["global_clusters"] == "9"
    assert row["global_outliers"] == "4" and row["global_refined_labelled"] == "40"
    assert row["coverage"] == "0.4" and row["trained_accuracy"] == "0.9"
    assert row["train_iterations"] == "10" and float(row["passes"]) == 8.0
    assert row["global_train_accuracy"] == "0.95"
