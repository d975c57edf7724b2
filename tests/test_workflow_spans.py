"""``epochs_per_job`` > 1: one job runs a span of epochs and writes what one job per stage and
epoch writes, bit for bit; a second job evaluates the span's evaluated epochs, so evaluation
settings rerun no training; a span killed halfway resumes.

The micro config runs three target epochs here, in spans of two (epochs 1-2, then 3), so
one span hands its temporary checkpoint and features to the next. The span run is killed
inside its first span's second epoch and resumed, so each check holds for a resumed run.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
import torch
import yaml
from snakemake_cli import (
    HAS_SNAKEMAKE,
    MICRO,
    kill_when,
    planned_jobs,
    run_snakemake,
    snakemake_command,
    unlock,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed"),
]

TARGET = "results/uda/micro/secret_mt/seed1/summary.json"
EXP = "results/uda/micro/secret_mt/seed1"
SPANS = {
    "adapt_uda_epochs_001_002": 1,
    "adapt_uda_epochs_003_003": 1,
    "evaluate_uda_epochs_001_002": 1,
    "evaluate_uda_epochs_003_003": 1,
}


def write_config(folder: Path, epochs_per_job: int) -> Path:
    config = yaml.safe_load(MICRO.read_text())
    config["adapt"]["epochs"] = 3
    config["epochs_per_job"] = epochs_per_job
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run(workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    result = run_snakemake(workdir, TARGET, *extra, configfile=workdir / "config.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def fingerprints(workdir: Path) -> dict[str, str]:
    """Hashes of every epoch's labels and evaluation and of the experiment's history."""
    exp = workdir / EXP
    files = [*exp.glob("epoch_*/refined.npz"), *exp.glob("epoch_*/eval.json")]
    out = {str(p.relative_to(exp)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    out["history"] = hashlib.sha256((exp / "history.csv").read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def one_job_per_epoch(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("per_epoch")
    write_config(workdir, 1)
    run(workdir)
    return workdir


@pytest.fixture(scope="module")
def spans(tmp_path_factory) -> Path:
    """The span run, killed halfway through its first span and resumed with the README's
    command: every check below holds for what a resumed span leaves behind."""
    workdir = tmp_path_factory.mktemp("spans")
    write_config(workdir, 2)
    planned = planned_jobs(run(workdir, "--dry-run").stdout)
    assert {rule: planned.get(rule) for rule in SPANS} == SPANS, planned
    assert {"pseudo_labels", "finetune_final", "evaluate"}.isdisjoint(planned), planned
    # Epoch 1's record exists once the first span is inside its second epoch.
    cmd = snakemake_command(workdir, TARGET, configfile=workdir / "config.yaml")
    kill_when(cmd, workdir / EXP / "epoch_001" / "train.json")
    assert not (workdir / EXP / "epoch_002" / "train.json").exists(), "killed too late"
    unlock(workdir, configfile=workdir / "config.yaml")
    run(workdir, "--rerun-incomplete")
    return workdir


def test_spans_write_the_bits_of_one_job_per_epoch(one_job_per_epoch, spans):
    assert fingerprints(spans) == fingerprints(one_job_per_epoch)
    assert len(fingerprints(spans)) == 6  # 3 label files, epochs 2 and 3 evaluated, history
    for epoch in ("002", "003"):  # the kept checkpoints: student, teacher, step
        ours, theirs = (
            torch.load(w / EXP / f"epoch_{epoch}" / "model.pt", weights_only=True)
            for w in (spans, one_job_per_epoch)
        )
        assert ours["global_step"] == theirs["global_step"]
        for part in ("model", "teacher"):
            assert ours[part].keys() == theirs[part].keys()
            assert all(torch.equal(ours[part][k], theirs[part][k]) for k in ours[part])


def test_spans_keep_only_what_one_job_per_epoch_keeps(spans):
    exp = spans / EXP
    assert not (exp / "epoch_001" / "model.pt").exists()  # read inside the span only
    assert not (exp / "epoch_002" / "features_after.npz").exists()  # temporary, read by 3
    assert (exp / "epoch_002" / "model.pt").is_file()  # evaluated
    assert (exp / "epoch_003" / "features_after.npz").is_file()  # final: kept for more epochs
    assert not list(exp.glob(".scratch-*")), "a span's scratch folder outlived its job"
    log = (exp / "logs" / "epochs_001-002.log").read_text()
    assert "epoch 2: fine-tuning" in log and "\r" not in log


def test_spans_rerun_nothing_and_an_eval_setting_reruns_only_evaluations(spans):
    assert "Nothing to be done" in run(spans, "--dry-run").stdout
    eta = "evaluation={batch_size: 64, eta: 0.5, eta_sweep: [0.0, 1.0], rerank: false}"
    jobs = planned_jobs(run(spans, "--dry-run", "--config", eta).stdout)
    evaluations = {"evaluate_uda_epochs_001_002", "evaluate_uda_epochs_003_003"}
    assert set(jobs) == evaluations | {"evaluate_start", "summarize_experiment"}, jobs


def test_a_span_killed_halfway_resumes_to_the_same_bits(spans, one_job_per_epoch):
    assert fingerprints(spans) == fingerprints(one_job_per_epoch)
    assert not list((spans / EXP).glob(".scratch-*"))
