"""A misspelled target is one line naming what is known, before any job is planned."""

import subprocess

import pytest
import yaml
from snakemake_cli import HAS_SNAKEMAKE, MICRO, ROOT, snakemake_command

from secret_core.workflow import config_check, targets


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture(scope="module")
def variants() -> dict:
    return config_check.load_variants(ROOT / "config" / "variants.yaml", {})


RULES = {"table1", "table2", "table3", "table4", "figures", "rank_lists", "all"}


def problem(target, config, variants):
    return targets.target_problem(target, config, variants, RULES, config_check.FIGURES)


@pytest.mark.parametrize(
    "target",
    [
        "results/table1.csv",
        "results/table4.md",
        "results/figures/fig7.pdf",
        "results/uda/duke2market/secret_k0.6/seed1/summary.json",
        "results/usl/synth_market/secret_mt/seed2/summary.json",
        "results/data/synth_duke/summary.json",
        "table2",
        "all",
        "somewhere/else.txt",
    ],
)
def test_known_targets_pass(config, variants, target):
    assert problem(target, config, variants) is None


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("results/uda/duke2markt/secret/seed1/summary.json", "tasks of this config: duke2market"),
        ("results/uda/duke2market/secrett/seed1/summary.json", "known variants: baseline"),
        ("results/uda/duke2market/secret/1/summary.json", "seed<N>"),
        ("results/usl/nowhere/secret/seed1/summary.json", "datasets of this config"),
        ("results/tabel1.csv", "known targets: table1"),
        ("results/table5.md", "known targets: table1"),
        ("results/figures/fig8.png", "fig1c,fig5,fig6,fig7"),
        ("results/figures/fig5.svg", "fig1c,fig5,fig6,fig7"),
        ("tabel1", "known targets: table1"),
        ("results/uad/duke2market/secret/seed1/summary.json", "results/ holds uda, usl"),
    ],
)
def test_unknown_targets_are_one_line_naming_the_known_ones(config, variants, target, named):
    message = problem(target, config, variants)
    assert message is not None and "\n" not in message
    assert named in message


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed")
@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("results/uda/micro2/secret/seed1/summary.json", "unknown task 'micro2'"),
        ("results/uda/micro/secrett/seed1/summary.json", "unknown variant 'secrett'"),
        ("results/tabel1.csv", "known targets: table1, table2"),
        ("results/figures/fig9.png", "known targets: table1, table2"),
        ("tabel1", "known targets: table1, table2"),
    ],
)
def test_snakemake_stops_with_one_line(tmp_path, target, named):
    """Through Snakemake itself (a dry run): one `SecretError:` line, no traceback."""
    cmd = snakemake_command(tmp_path, "--dry-run", target, configfile=MICRO)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("SecretError")]
    assert len(errors) == 1 and named in errors[0], result.stderr[-2000:]
    assert "InputFunctionException" not in result.stderr
    assert "No rule to produce" not in result.stderr
    assert "Traceback" not in result.stderr
