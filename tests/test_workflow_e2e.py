"""End-to-end: Snakemake runs the real rules on a micro config and writes Table 1."""

import csv
import math
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MICRO = ROOT / "tests" / "micro_config.yaml"

pytestmark = pytest.mark.skipif(shutil.which("snakemake") is None, reason="snakemake not on PATH")


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(MICRO),
        "--cores",
        "2",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("micro")
    result = snakemake(workdir, "results/table1.csv")
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


def test_table1_rows_columns_and_values(micro_run):
    with open(micro_run / "results" / "table1.csv") as fh:
        rows = list(csv.DictReader(fh))
    methods = [r["method"] for r in rows]
    assert methods == ["Source only", "SECRET", "SECRET-Joint", "SECRET(MT)", "SECRET-Joint(MT)"]
    for row in rows:
        for column in ("micro_mAP", "micro_R1"):
            value = float(row[column])
            assert math.isfinite(value) and 0.0 <= value <= 100.0
    assert (micro_run / "results" / "table1.md").read_text().startswith("# Table 1")


def test_epoch_outputs_kept_and_features_temporary(micro_run):
    exp = micro_run / "results" / "uda" / "micro" / "secret" / "seed1"
    for epoch in ("001", "002"):
        assert (exp / f"epoch_{epoch}" / "refined.npz").is_file()
        assert (exp / f"epoch_{epoch}" / "model.pt").is_file()
        assert not (exp / f"epoch_{epoch}" / "features.npz").exists()
    assert (exp / "history.csv").is_file()


def test_second_invocation_has_nothing_to_do(micro_run):
    result = snakemake(micro_run, "--dry-run", "results/table1.csv")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Nothing to be done" in result.stdout + result.stderr
