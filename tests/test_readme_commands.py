"""Every `snakemake ...` command the README shows works as written.

A newcomer copies these commands; one of them once read the target as a config file. Each
command found in the README (fenced code blocks and inline code) runs in a temporary copy of
the workflow, as a dry run (`-n`) since they would train, with a fabricated layout-only
dataset tree for the paper config's `data_root`, and must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest
from snakemake_cli import HAS_SNAKEMAKE, ROOT, SNAKEMAKE

README = ROOT / "README.md"
# benchmarks/ holds config overlays (old_recipe.yaml, camera_shift.yaml, ...) a command may name
WORKFLOW_PARTS = (
    "Snakefile",
    "rules",
    "config",
    "profiles",
    "workflow_scripts",
    "environment.yml",
    "benchmarks",
)
DATA_PLACEHOLDER = "/path/to/datasets"
# Commands that need finished results rather than a plan; the end-to-end test builds a report.
NEEDS_RESULTS = ("--report",)

needs_snakemake = pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed")


def readme_commands(text: str) -> list[str]:
    """The `snakemake ...` commands of the README's code blocks and inline code, as shown."""
    commands = []
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, flags=re.S)
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [line.strip() for line in joined.splitlines()]
    outside = re.sub(r"```.*?```", "", text, flags=re.S)
    commands += [" ".join(span.split()) for span in re.findall(r"`(snakemake [^`]+)`", outside)]
    found = []
    for line in commands:
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith("snakemake ") and "<" not in part and "..." not in part:
                found.append(part)
    return list(dict.fromkeys(found))


def parse(command: str):
    """Snakemake's own reading of a command line (no workflow is loaded)."""
    from snakemake.cli import get_argument_parser

    argv = shlex.split(command, comments=True)
    return get_argument_parser().parse_args(argv[1:])


def plan_groups(commands: list[str]) -> dict[tuple[str, ...], list[str]]:
    """Commands that differ only in their targets, as one run with all their targets.

    Each Snakemake start-up costs seconds; README commands like `snakemake --cores 8 table2`
    and `... table3` share every option, so one dry run with both targets checks both.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for command in commands:
        argv = shlex.split(command, comments=True)
        targets = [str(t) for t in parse(command).targets]
        options = tuple(token for token in argv[1:] if token not in targets and token != "-n")
        groups.setdefault(options, [])
        groups[options] += [t for t in targets if t not in groups[options]]
    return groups


@needs_snakemake
def test_readme_commands_parse_as_meant():
    """Targets are targets: not read as a config file or a key=value pair (fast check)."""
    for command in readme_commands(README.read_text()):
        args = parse(command)
        for path in args.configfile or []:
            assert str(path).endswith((".yaml", ".yml", ".json")), f"{command}: {path}"
        for entry in args.config or []:
            assert re.match(r"^[A-Za-z_][\w-]*\w=", entry), f"{command}: {entry}"
        if "--unlock" not in command and "--report" not in command:
            assert args.targets, f"{command}: no target"


def test_readme_shows_the_commands_this_test_runs():
    commands = readme_commands(README.read_text())
    assert any("--profile profiles/slurm" in c for c in commands)
    assert any("config/paper.yaml" in c for c in commands)
    assert any("adapt={k: 0.6}" in c for c in commands)


def fake_paper_datasets(root: Path) -> Path:
    """Layout-only trees (empty files) of Market-1501, DukeMTMC-reID and MSMT17 V1."""

    def touch(folder: Path, names: list[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            (folder / name).write_bytes(b"")

    for top, name in (
        ("Market-1501-v15.09.15", "0002_c1s1_000451_03.jpg"),
        ("DukeMTMC-reID", "0005_c2_f0046985.jpg"),
    ):
        for split in ("bounding_box_train", "bounding_box_test", "query"):
            touch(root / top / split, [name])
    msmt = root / "MSMT17_V1"
    touch(msmt / "train" / "0000", ["0000_000_01_0303morning_0015_0.jpg"])
    touch(msmt / "test" / "0000", ["0000_000_15_0303afternoon_0014_0.jpg"])
    for name in ("list_train.txt", "list_val.txt"):
        (msmt / name).write_text("0000/0000_000_01_0303morning_0015_0.jpg 0\n")
    for name in ("list_query.txt", "list_gallery.txt"):
        (msmt / name).write_text("0000/0000_000_15_0303afternoon_0014_0.jpg 0\n")
    return root


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return fake_paper_datasets(tmp_path_factory.mktemp("datasets"))


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A copy of the workflow as a user has it after cloning (no results, no .snakemake)."""
    target = tmp_path_factory.mktemp("clone")
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    return target


GROUPS = plan_groups(readme_commands(README.read_text())) if HAS_SNAKEMAKE else {}


@pytest.mark.slow
@needs_snakemake
@pytest.mark.parametrize(
    ("options", "targets"), list(GROUPS.items()), ids=[" ".join(o) for o in GROUPS]
)
def test_readme_command_works_as_written(clone, data_root, options, targets):
    """Each command (commands differing only in targets together) as a dry run: exit 0."""
    if any(flag in options for flag in NEEDS_RESULTS):
        pytest.skip("needs a finished run; test_workflow_e2e builds the report")
    if "profiles/slurm" in options and find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[dev]')")
    argv = [token.replace(DATA_PLACEHOLDER, str(data_root)) for token in options]
    # Targets go first, as the README writes them: --configfile/--config take several values.
    planned = [] if "--unlock" in argv else ["-n", *targets]
    argv = [*SNAKEMAKE, *planned, *argv]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(argv, cwd=clone, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, f"{' '.join(argv)}\n{result.stderr[-3000:]}"
