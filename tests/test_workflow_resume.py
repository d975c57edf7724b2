"""Kill anywhere, resume with the README's command, get bit-identical results.

One run of the micro pipeline is SIGKILLed (the whole process group, as a node failure or the
OOM killer would) at each chosen point in turn: inside pre-training, inside a fine-tuning job,
between epochs and inside a pseudo-label job. Each restart is the documented resume command,
so every kill after the first lands in a resumed run, as on a cluster that fails twice. The
final resume must give every label file and the history of an uninterrupted run, bit for bit,
and no epoch finished before a kill may be computed again.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from snakemake_cli import HAS_SNAKEMAKE, kill_when, snakemake_command, unlock

TARGET = "results/uda/micro/secret/seed1/summary.json"
EXP = "results/uda/micro/secret/seed1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed"),
]

# In the order a run reaches them. A job's log is created when the job starts, so killing
# then lands inside the job; epoch 1's checkpoint exists only between epochs 1 and 2.
KILL_POINTS = {
    "inside pretrain": "results/pretrain/micro_src/bn_micro_tgt/seed1/logs/pretrain.log",
    "inside a finetune job": f"{EXP}/epoch_001/logs/finetune.log",
    "between epochs": f"{EXP}/epoch_001/model.pt",
    "inside a pseudo-label job": f"{EXP}/epoch_002/logs/pseudo_labels.log",
}


def command(workdir: Path, *extra: str) -> list[str]:
    return snakemake_command(workdir, *extra, TARGET)


def run(workdir: Path, *extra: str) -> None:
    result = subprocess.run(command(workdir, *extra), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]


def fingerprints(workdir: Path) -> dict[str, str]:
    """Hashes of every epoch's training labels and of the experiment's history."""
    out = {}
    exp = workdir / EXP
    for path in sorted(exp.glob("epoch_*/refined.npz")):
        out[str(path.relative_to(workdir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    out["history"] = hashlib.sha256((exp / "history.csv").read_bytes()).hexdigest()
    return out


def finished_labels(workdir: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (workdir / EXP).glob("epoch_*/refined.npz")}


def test_killed_at_every_point_and_resumed_is_bit_identical(tmp_path_factory):
    reference = tmp_path_factory.mktemp("uninterrupted")
    run(reference)

    workdir = tmp_path_factory.mktemp("killed")
    finished: dict[Path, int] = {}
    for index, trigger in enumerate(KILL_POINTS.values()):
        if index:
            unlock(workdir)
        resumed = ("--rerun-incomplete",) if index else ()
        kill_when(command(workdir, *resumed), workdir / trigger)
        finished |= finished_labels(workdir)
    unlock(workdir)
    run(workdir, "--rerun-incomplete")

    assert fingerprints(workdir) == fingerprints(reference)
    assert finished, "no epoch finished before the last kill: the kill points moved"
    for path, mtime in finished.items():  # completed epochs are not recomputed
        assert path.stat().st_mtime_ns == mtime, f"{path} was recomputed"
