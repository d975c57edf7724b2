"""benchmarks/bench_dryrun.py: what it runs is a valid dry run of the paper's config (its
timings are printed by the script, never asserted: the machine is shared)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

import secret_core.workflow as wf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_dryrun import (  # noqa: E402
    FLOOR_EPOCHS,
    floor_dry_run,
    job_counts,
    stand_in_datasets,
)


def test_stand_in_datasets_pass_the_up_front_check(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    config["data_root"] = str(stand_in_datasets(tmp_path))
    wf.validate_config(config, ROOT / "config" / "schema.yaml", validate)
    wf.check_datasets(config)  # raises when a folder or list file is missing


def test_job_counts_read_the_job_stats_table():
    output = "\n".join(
        [
            "Building DAG of jobs...",
            "Job stats:",
            "job      count",
            "-----  -------",
            "refine       3",
            "all          1",
            "total        4",
            "",
            "Reasons:",
        ]
    )
    assert job_counts(output) == {"refine": 3, "all": 1, "total": 4}


@pytest.mark.slow
def test_floor_workflow_plans_about_the_jobs_asked(tmp_path):
    timing = floor_dry_run(201, tmp_path)
    # whole chains of FLOOR_EPOCHS two-job epochs, plus `all`: never fewer jobs than asked
    assert 201 <= timing.jobs["total"] <= 201 + 2 * FLOOR_EPOCHS
    assert set(timing.jobs) == {"a", "b", "all", "total"}
