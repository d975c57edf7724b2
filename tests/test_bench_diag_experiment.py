"""benchmarks/diag_experiment.py runs an experiment in one process with the rules' layout."""

import csv
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_driver_writes_history_with_diagnosis_columns(tmp_path):
    config = ROOT / "tests" / "micro_config.yaml"
    task = next(iter(yaml.safe_load(config.read_text())["tasks"]))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "diag_experiment.py"), "--configfile"]
    cmd += [str(config), "--out", str(tmp_path), "--task", task, "--variants", "secret"]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    history = tmp_path / "results" / "uda" / task / "secret" / "seed1" / "history.csv"
    rows = list(csv.DictReader(history.read_text().splitlines()))
    assert all(row["global_mAP"] for row in rows)  # evaluated every epoch
    assert {"coverage", "trained_accuracy", "passes", "global_train_accuracy"} <= set(rows[1])
