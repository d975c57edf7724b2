"""What a newcomer meets before any result: the Makefile, test markers, skips and installs."""

import re
import tomllib
from pathlib import Path

import pytest
from conftest import MARKET_MINI_ENV, market_mini_path, market_mini_skip_reason

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("snakemake", "ruff", "snakefmt", "pytest", "pip")


def test_makefile_runs_every_tool_through_python():
    """`make PYTHON=.venv/bin/python3 demo` must not need the venv on PATH."""
    recipes = [
        line.strip()
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("\t")
    ]
    bare = [line for line in recipes if line.split()[0] in TOOLS]
    assert not bare, f"call these through $(PYTHON) -m: {bare}"


def test_parallel_make_test_keeps_each_module_on_one_worker():
    """A workflow module's Snakemake run is a module-scoped fixture: split over pytest-xdist
    workers by test, it would run once per worker, and the suite would take longer in
    parallel than on one worker."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    pytest_line = next(line for line in recipe.splitlines() if "-m pytest" in line)
    if " -n " in pytest_line:
        assert re.search(r"--dist[ =](loadscope|loadfile)\b", pytest_line), pytest_line
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        dev = project["optional-dependencies"]["dev"]
        assert any(d.startswith("pytest-xdist") for d in dev), "add pytest-xdist to [dev]"


def test_every_test_module_that_runs_snakemake_is_marked_slow():
    """`pytest -m "not slow"` is the fast development command: no Snakemake run in it."""
    from snakemake_cli import SNAKEMAKE_MARKS

    assert pytest.mark.slow in SNAKEMAKE_MARKS
    runs_snakemake = re.compile(r"snakemake_command\(|run_snakemake\(|kill_when\(|SNAKEMAKE\b")
    marked = re.compile(r"pytest\.mark\.slow|^pytestmark = \[?\*?SNAKEMAKE_MARKS", re.M)
    unmarked = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        if path.name == Path(__file__).name or not runs_snakemake.search(text):
            continue
        if not marked.search(text):
            unmarked.append(path.name)
    assert not unmarked, f"run Snakemake but are not marked slow: {unmarked}"


def test_market_sample_skip_says_what_it_is_and_how_to_provide_it(monkeypatch, tmp_path):
    monkeypatch.setenv(MARKET_MINI_ENV, str(tmp_path / "mine"))
    path = market_mini_path()
    assert path == tmp_path / "mine"
    reason = market_mini_skip_reason(path)
    assert "96 real Market-1501 images" in reason and "official layout" in reason
    assert "licence" in reason and MARKET_MINI_ENV in reason and str(path) in reason


def test_slurm_test_installs_nothing_unless_asked(monkeypatch):
    import test_workflow_slurm as slurm

    monkeypatch.delenv(slurm.INSTALL_ENV, raising=False)
    monkeypatch.setattr(slurm, "_missing_programs", lambda: ["sbatch"])

    def no_install(*args, **kwargs):
        raise AssertionError(f"installed without {slurm.INSTALL_ENV}=1: {args}")

    monkeypatch.setattr(slurm.subprocess, "run", no_install)
    with pytest.raises(pytest.skip.Exception, match=slurm.INSTALL_ENV):
        slurm._ensure_slurm_installed()


def test_ci_opts_in_to_installing_slurm():
    assert "SECRET_INSTALL_SLURM=1" in (ROOT / ".ci" / "run").read_text()


def test_faiss_is_one_extra_per_machine():
    """The CPU and CUDA wheels both install `faiss`: neither is a base dependency, so pip never
    puts both in one environment, and `make install` picks the CPU one by default."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("faiss")]
    extras = project["optional-dependencies"]
    assert extras["cpu"] == ["faiss-cpu>=1.15"]
    assert [d.split(">")[0] for d in extras["gpu"]] == ["faiss-gpu-cu12"]
    makefile = (ROOT / "Makefile").read_text()
    assert "FAISS ?= cpu" in makefile and '".[dev,$(FAISS)]"' in makefile
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[cpu]"' in readme and 'pip install -e ".[gpu]"' in readme


def test_missing_faiss_is_one_line_naming_the_extras(monkeypatch):
    import sys

    import numpy as np

    from secret_core.clustering.knn import knn
    from secret_core.errors import SecretError

    monkeypatch.setitem(sys.modules, "faiss", None)  # what an install without the extra gives
    with pytest.raises(SecretError) as info:
        knn(np.eye(3, dtype=np.float32), 2, device="cpu")
    message = str(info.value)
    assert "\n" not in message and ".[cpu]" in message and ".[gpu]" in message
