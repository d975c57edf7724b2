"""benchmarks/synthetic_stats.py compares raw-pixel neighbours at a real sample's shape."""

import subprocess
import sys
from pathlib import Path

import yaml
from synthetic_specs import TINY, tiny_spec

from secret_core.synthetic import generate_domain

ROOT = Path(__file__).resolve().parents[1]


def test_matched_neighbour_table_has_every_domain_and_the_sample(tmp_path):
    real = tmp_path / "real_sample"  # a Market-layout folder, as a real sample comes
    generate_domain(tiny_spec(name="real_sample", style="synth_b", seed=5), real)
    entry = {key: value for key, value in TINY.items() if key != "name"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"datasets": {"tiny": {"synthetic": entry}}}))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "synthetic_stats.py"), "--configfile"]
    cmd += [str(config), "--out", str(tmp_path / "domains"), "--real", str(real)]
    out = subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True).stdout
    table = out.split("Raw-pixel nearest neighbours at 32x16")[1]
    assert "cut to real_sample's shape" in table
    rows = {
        line.split("|")[1].strip(): [float(cell) for cell in line.split("|")[2:5]]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| domain")
    }
    assert set(rows) == {"tiny", "real_sample (real)"}
    for shares in rows.values():  # every image's nearest neighbour falls in one of the three
        assert abs(sum(shares) - 1.0) <= 0.015
