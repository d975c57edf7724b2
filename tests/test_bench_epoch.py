"""benchmarks/bench_epoch.py, the GPU epoch benchmark, runs on the shipped config's recipe."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_reduced_cpu_run_measures_every_stage_with_the_configs_recipe():
    # The demo's recipe: random erasing and the losses as mappings, eps from eps_neighbours.
    # The script read them as the old flat keys and stopped with a TypeError before.
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_epoch.py")]
    cmd += ["--configfile", str(ROOT / "config" / "config.yaml")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "REDUCED RUN (CPU)" in out
    for stage in ("extraction:", "fine-tuning:", "clustering market", "clustering msmt"):
        assert stage in out
    assert out.count("target market:") == 1 and out.count("target msmt:") == 1
