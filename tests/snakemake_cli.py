"""What the workflow tests share: the Snakemake command on the micro config and the checks of
its outputs, so that the local and the Slurm runs are held to the same standard."""

from __future__ import annotations

import csv
import math
import sys
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MICRO = ROOT / "tests" / "micro_config.yaml"
# Snakemake through the interpreter running the tests: a virtual environment that is not
# activated has no `snakemake` on PATH, but its python has the module.
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
HAS_SNAKEMAKE = find_spec("snakemake") is not None


def snakemake_command(
    workdir: Path, *args: str, cores: int | None = 2, configfile: Path = MICRO
) -> list[str]:
    """``snakemake`` in ``workdir`` on the micro config; ``cores=None`` for --unlock and co."""
    cmd = [
        *SNAKEMAKE,
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
    ]
    if cores is not None:
        cmd += ["--cores", str(cores)]
    return [*cmd, *args]


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """Rule -> job count from the "Job stats" table a dry run prints."""
    counts: dict[str, int] = {}
    lines = dry_run_output.splitlines()
    if "Job stats:" not in lines:
        return counts
    for line in lines[lines.index("Job stats:") + 3 :]:
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit() or fields[0] == "total":
            break
        counts[fields[0]] = int(fields[1])
    return counts


def check_table1(workdir: Path) -> None:
    """Table 1 of the micro run: the five methods, finite values in [0, 100], its Markdown twin."""
    with open(workdir / "results" / "table1.csv") as fh:
        rows = list(csv.DictReader(fh))
    methods = [r["method"] for r in rows]
    assert methods == ["Source only", "SECRET", "SECRET-Joint", "SECRET(MT)", "SECRET-Joint(MT)"]
    for row in rows:
        for column in ("micro_mAP", "micro_R1"):
            value = float(row[column])
            assert math.isfinite(value) and 0.0 <= value <= 100.0
    assert (workdir / "results" / "table1.md").read_text().startswith("# Table 1")


def check_epoch_outputs(workdir: Path) -> None:
    """Labels and records kept, features temporary, only the last (evaluated) checkpoint kept.

    The micro config keeps every 2nd checkpoint and evaluates epochs 0 and 2, so epoch 1's
    checkpoint is temporary: it must be gone once epoch 2 has read it.
    """
    exp = workdir / "results" / "uda" / "micro" / "secret" / "seed1"
    for epoch in ("001", "002"):
        assert (exp / f"epoch_{epoch}" / "refined.npz").is_file()
        assert (exp / f"epoch_{epoch}" / "train.json").is_file()
        assert not (exp / f"epoch_{epoch}" / "features.npz").exists()
    assert not (exp / "epoch_001" / "model.pt").exists()
    assert (exp / "epoch_002" / "model.pt").is_file()
    assert (exp / "history.csv").is_file()
