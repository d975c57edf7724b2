"""Kill anywhere, resume with the README's command, get bit-identical results.

Each test starts the micro pipeline, SIGKILLs Snakemake and its jobs (the whole process
group, as a node failure or the OOM killer would) when a chosen point is reached, then runs
the documented resume command and compares every label file and the final table with an
uninterrupted run.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from snakemake_cli import HAS_SNAKEMAKE, snakemake_command

TARGET = "results/uda/micro/secret/seed1/summary.json"
EXP = "results/uda/micro/secret/seed1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed"),
]


def command(workdir: Path, *extra: str) -> list[str]:
    return snakemake_command(workdir, *extra, TARGET)


def run(workdir: Path, *extra: str) -> None:
    result = subprocess.run(command(workdir, *extra), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]


def resume(workdir: Path) -> None:
    """The README's resume command: unlock, then rerun with --rerun-incomplete."""
    unlock = snakemake_command(workdir, "--unlock", cores=None)
    subprocess.run(unlock, capture_output=True, text=True, timeout=300, check=True)
    run(workdir, "--rerun-incomplete")


def kill_when(workdir: Path, trigger: str, timeout: float = 600) -> None:
    """Start the run and SIGKILL its process group once ``trigger`` (a path) exists."""
    proc = subprocess.Popen(
        command(workdir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while not (workdir / trigger).exists():
            assert proc.poll() is None, f"run ended before {trigger} appeared"
            assert time.monotonic() < deadline, f"{trigger} never appeared"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def fingerprints(workdir: Path) -> dict[str, str]:
    """Hashes of every epoch's training labels and of the experiment's history."""
    out = {}
    exp = workdir / EXP
    for path in sorted(exp.glob("epoch_*/refined.npz")):
        out[str(path.relative_to(workdir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    out["history"] = hashlib.sha256((exp / "history.csv").read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, str]:
    workdir = tmp_path_factory.mktemp("uninterrupted")
    run(workdir)
    return fingerprints(workdir)


KILL_POINTS = {
    # the job's log is created when the job starts: killing then lands inside the job
    "inside pretrain": "results/pretrain/micro_src/bn_micro_tgt/seed1/logs/pretrain.log",
    "inside a pseudo-label job": f"{EXP}/epoch_002/logs/pseudo_labels.log",
    "inside a finetune job": f"{EXP}/epoch_001/logs/finetune.log",
    "between epochs": f"{EXP}/epoch_001/model.pt",
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_and_resume_is_bit_identical(tmp_path, reference, point):
    kill_when(tmp_path, KILL_POINTS[point])
    finished = {p: p.stat().st_mtime_ns for p in (tmp_path / EXP).glob("epoch_*/refined.npz")}
    resume(tmp_path)
    assert fingerprints(tmp_path) == reference
    for path, mtime in finished.items():  # completed epochs are not recomputed
        assert path.stat().st_mtime_ns == mtime, f"{path} was recomputed"
