"""The ImageNet fetch rule in Snakemake's plan (dry runs only: nothing is downloaded).

With ``model.init: imagenet`` one local job per architecture puts torchvision's file into the
torch hub cache, every network-creating job reads it, and a file already in the cache (put
there by hand on an offline machine) means no fetch job at all.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from snakemake_cli import HAS_SNAKEMAKE, MICRO, ROOT, planned_jobs, snakemake_command

from secret_core import imagenet

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed"),
]


def _dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **model: str) -> str:
    """A dry run of the micro config (two seeds) with ``model`` keys changed, TORCH_HOME in
    ``tmp_path``; returns stdout."""
    config = yaml.safe_load(MICRO.read_text())
    config["model"].update(model)
    config["seeds"] = [1, 2]
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cmd = snakemake_command(tmp_path, "--dry-run", configfile=configfile)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_imagenet_fetch_is_planned_once_and_feeds_every_new_network(tmp_path, monkeypatch):
    out = _dry_run(tmp_path, monkeypatch, arch="resnet50", init="imagenet")
    jobs = planned_jobs(out)
    assert jobs["imagenet_weights"] == 1, jobs
    assert jobs["pretrain_source"] == 2 and jobs["init_model"] == 2  # two seeds each
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet50-0676ba61.pth"
    assert f"output: {cached}" in out
    for rule in ("pretrain_source", "init_model"):
        blocks = re.findall(rf"rule {rule}:\n    input: ([^\n]*)", out)
        assert blocks and all(str(cached) in block for block in blocks), rule


def test_fetch_rule_runs_on_the_submitting_machine():
    """A dry run prints every job alike, so the directive itself is checked: the rule must stay
    local (compute nodes may have no internet) and outside any job group."""
    text = (ROOT / "rules" / "weights.smk").read_text()
    rule = text[text.index("rule imagenet_weights:") :]
    assert "    localrule: True\n" in rule and "group:" not in rule


def test_cached_file_means_no_fetch_job(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = imagenet.cached_weights_path("resnet18")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"placed by hand")  # a dry run never reads it
    out = _dry_run(tmp_path, monkeypatch, arch="resnet18", init="imagenet")
    assert "imagenet_weights" not in planned_jobs(out)
    assert str(cached) in out  # still the input of the network-creating jobs


def test_no_fetch_without_imagenet_init(tmp_path, monkeypatch):
    assert "imagenet_weights" not in planned_jobs(_dry_run(tmp_path, monkeypatch))


def test_arch_without_imagenet_weights_stops_with_one_line(tmp_path, monkeypatch):
    config = yaml.safe_load(MICRO.read_text())
    config["model"]["init"] = "imagenet"  # the micro config's resnet_tiny has no such weights
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    cmd = snakemake_command(tmp_path, "--dry-run", configfile=configfile)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    # Snakemake reports a start-up error as "SecretError in file ..." and then its message.
    output = result.stdout + result.stderr
    lines = output.splitlines()
    assert any(line.startswith("SecretError") for line in lines), output[-2000:]
    assert any(
        line.startswith("model.init imagenet is not available for resnet_tiny; use none")
        for line in lines
    )
    assert "Traceback" not in output
