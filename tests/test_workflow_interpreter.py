"""The planning process's collector thresholds (secret_core/workflow/interpreter.py)."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from secret_core.workflow import defer_full_collections
from secret_core.workflow.interpreter import FULL_COLLECTION_THRESHOLD
from tests.snakemake_cli import HAS_SNAKEMAKE, snakemake_command


@pytest.fixture
def restored_thresholds():
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_only_the_oldest_generation_waits_longer(restored_thresholds):
    gc.set_threshold(700, 10, 10)
    former = defer_full_collections(500)
    assert former == (700, 10, 10)
    assert gc.get_threshold() == (700, 10, 500)


def test_a_higher_threshold_already_set_is_kept(restored_thresholds):
    gc.set_threshold(2000, 20, 5000)
    defer_full_collections(500)
    assert gc.get_threshold() == (2000, 20, 5000)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed")
def test_snakemake_plans_with_deferred_full_collections(tmp_path):
    """The Snakefile sets it in the process that builds the DAG (read back at exit)."""
    probe = (
        "import atexit, gc, runpy, sys\n"
        "atexit.register(lambda: print('THRESHOLDS', *gc.get_threshold()))\n"
        "sys.argv = ['snakemake', *sys.argv[1:]]\n"
        "runpy.run_module('snakemake', run_name='__main__')\n"
    )
    cmd = snakemake_command(tmp_path, "-n", "--quiet", "all")
    cmd = [sys.executable, "-c", probe, *cmd[3:]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("THRESHOLDS"))
    assert int(line.split()[3]) >= FULL_COLLECTION_THRESHOLD
