"""What the workflow tests share: the Snakemake command on the micro config and the checks of
its outputs, so that the local and the Slurm runs are held to the same standard."""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

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


def run_snakemake(
    workdir: Path, *args: str, configfile: Path = MICRO, timeout: int = 900
) -> subprocess.CompletedProcess:
    """Run ``snakemake`` (see ``snakemake_command``) and capture its output."""
    cmd = snakemake_command(workdir, *args, configfile=configfile)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def kill_when(cmd: list[str], trigger: Path, timeout: float = 600) -> None:
    """Start ``cmd`` and SIGKILL its whole process group once ``trigger`` exists, as a node
    failure or the OOM killer would stop Snakemake and its jobs."""
    assert not trigger.exists(), f"{trigger} exists before the run reached it"
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + timeout
    try:
        while not trigger.exists():
            assert proc.poll() is None, f"run ended before {trigger} appeared"
            assert time.monotonic() < deadline, f"{trigger} never appeared"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def unlock(workdir: Path, configfile: Path = MICRO) -> None:
    """The README's resume command starts with ``--unlock``: a killed run leaves its lock."""
    cmd = snakemake_command(workdir, "--unlock", cores=None, configfile=configfile)
    subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)


# What every test module that runs Snakemake is marked with.
SNAKEMAKE_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed"),
]


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
    # Progress in rule logs is whole lines (secret_core.progress), never tqdm's redraws.
    logs = sorted((workdir / "results").rglob("*.log"))
    assert logs and not [log for log in logs if "\r" in log.read_text()]
    pretrain = next((workdir / "results" / "pretrain").rglob("pretrain.log")).read_text()
    assert "epoch 1: 3/3 (100%)" in pretrain, pretrain
