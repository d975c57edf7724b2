"""A result of one config is never accepted for another, whichever way Snakemake is run.

Snakemake reruns a finished job when its params differ from those recorded when it ran, but a
job with no recorded metadata counts as up to date. The demo runs without `--profile`; if the
shipped profiles kept metadata elsewhere (another persistence backend), a paper run through
them would find no metadata and accept the demo's results ("Nothing to be done"). Here the
micro config's datasets are built without a profile, then a changed setting and a switched
config are planned through each shipped profile and without one.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml
from snakemake_cli import (
    MICRO,
    ROOT,
    SNAKEMAKE_MARKS,
    planned_jobs,
    run_snakemake,
)

# The cheapest jobs of the micro config: two small synthetic domains, a few seconds.
TARGETS = ("results/data/micro_src/summary.json", "results/data/micro_tgt/summary.json")
PROFILES = {
    "no --profile": (),
    "profiles/local": ("--profile", str(ROOT / "profiles" / "local")),
    "profiles/slurm": ("--profile", str(ROOT / "profiles" / "slurm")),
    # Without the workflow profile: Snakemake's default backend is the workflow's own.
    "--workflow-profile none": ("--workflow-profile", "none"),
}

pytestmark = SNAKEMAKE_MARKS
snakemake = run_snakemake


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The micro config's datasets, built as `make demo` builds: no --profile."""
    workdir = tmp_path_factory.mktemp("metadata")
    result = snakemake(workdir, *TARGETS)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def config_with(tmp_path: Path, name: str, change) -> Path:
    config = yaml.safe_load(MICRO.read_text())
    change(config)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def changed_setting(tmp_path: Path) -> Path:
    """The micro config with one setting changed: the target domain's generator seed."""

    def change(config: dict) -> None:
        config["datasets"]["micro_tgt"]["synthetic"]["seed"] = 7

    return config_with(tmp_path, "changed.yaml", change)


def switched_config(tmp_path: Path) -> Path:
    """Another config writing the same paths: both domains are other domains."""

    def change(config: dict) -> None:
        config["datasets"]["micro_src"]["synthetic"].update(style="synth_c", num_ids=10)
        config["datasets"]["micro_tgt"]["synthetic"].update(style="synth_c", num_ids=10)

    return config_with(tmp_path, "switched.yaml", change)


def plan(workdir: Path, profile: str, configfile: Path) -> dict[str, int]:
    if profile == "profiles/slurm" and find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[dev]')")
    result = snakemake(workdir, "--dry-run", *PROFILES[profile], *TARGETS, configfile=configfile)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Nothing to be done" not in result.stdout + result.stderr
    return planned_jobs(result.stdout + result.stderr)


def test_unchanged_config_has_nothing_to_do_through_every_profile(built):
    for profile in PROFILES:
        if profile == "profiles/slurm" and find_spec("snakemake_executor_plugin_slurm") is None:
            continue
        result = snakemake(built, "--dry-run", *PROFILES[profile], *TARGETS)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Nothing to be done" in result.stdout + result.stderr, profile


@pytest.mark.parametrize("profile", list(PROFILES))
def test_changed_setting_is_planned_through_every_profile(built, tmp_path, profile):
    assert plan(built, profile, changed_setting(tmp_path)) == {"prepare_dataset": 1}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_switched_config_is_planned_through_every_profile(built, tmp_path, profile):
    assert plan(built, profile, switched_config(tmp_path)) == {"prepare_dataset": 2}


def test_another_metadata_backend_is_refused(built):
    """The SQLite backend would not see the file backend's metadata: refused in one line."""
    result = snakemake(built, "--dry-run", "--persistence-backend", "db", *TARGETS)
    assert result.returncode != 0
    assert "drop --persistence-backend db" in result.stdout + result.stderr


def test_an_older_checkouts_metadata_database_stops_the_run(built):
    """Metadata in the old SQLite file is invisible to the file backend: stop, name the fix."""
    database = built / ".snakemake" / "metadata.db"
    database.write_bytes(b"")
    try:
        result = snakemake(built, "--dry-run", *TARGETS)
    finally:
        database.unlink()
    assert result.returncode != 0
    assert "delete .snakemake/metadata.db" in result.stdout + result.stderr
