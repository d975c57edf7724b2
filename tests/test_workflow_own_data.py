"""A config's recipe on other images: an overlay points its datasets at folders.

How a researcher runs the demo's recipe on a Market-layout set of their own, and how a check
that swaps only the datasets does: ``--configfile config.yaml mine.yaml``, where ``mine.yaml``
gives the config's dataset names a ``path``. Snakemake merges the two files key by key; the
workflow must read the folders, not generate the synthetic domains the first file named.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from snakemake_cli import MICRO, SNAKEMAKE_MARKS, snakemake_command
from synthetic_specs import tiny_spec

from secret_core.synthetic import generate_domain

pytestmark = SNAKEMAKE_MARKS


@pytest.fixture(scope="module")
def own_data(tmp_path_factory):
    """Two folders in Market-1501's layout (generated here; any Market-layout set reads the
    same) and an overlay naming the micro config's datasets with their paths."""
    root = tmp_path_factory.mktemp("own_data")
    generate_domain(tiny_spec(name="source", seed=3), root / "source")
    generate_domain(tiny_spec(name="target", seed=4, style="synth_a"), root / "target")
    overlay = root / "mine.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "data_root": str(root),
                "datasets": {
                    "micro_src": {"path": "source", "layout": "market1501"},
                    "micro_tgt": {"path": "target", "layout": "market1501"},
                },
            }
        )
    )
    return root, overlay


def with_overlay(workdir, overlay, *args: str) -> list[str]:
    """The micro config, then the overlay, in one ``--configfile`` (given twice, Snakemake
    would keep only the second)."""
    cmd = snakemake_command(workdir, *args)
    at = cmd.index(str(MICRO)) + 1
    return [*cmd[:at], str(overlay), *cmd[at:]]


def test_an_overlay_reads_the_folders_instead_of_generating(tmp_path, own_data):
    root, overlay = own_data
    target = "results/data/micro_tgt/summary.json"
    result = subprocess.run(
        with_overlay(tmp_path, overlay, target), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    notices = [line for line in result.stderr.splitlines() if line.startswith("config: dataset")]
    assert len(notices) == 2, result.stderr[-3000:]  # one per dataset
    summary = json.loads((tmp_path / target).read_text())
    assert summary["root"] == str(root / "target") and summary["layout"] == "market1501"
    assert not (tmp_path / "results" / "data" / "micro_tgt" / "images").exists()

    plan = subprocess.run(
        with_overlay(tmp_path, overlay, "--dry-run", "results/uda/micro/secret/seed1/summary.json"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "prepare_dataset" in plan.stdout  # the source folder is still to be read
