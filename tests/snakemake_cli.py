"""The Snakemake command line the workflow tests run: the real Snakefile on the micro config."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MICRO = ROOT / "tests" / "micro_config.yaml"


def snakemake_command(
    workdir: Path, *args: str, cores: int | None = 2, configfile: Path = MICRO
) -> list[str]:
    """``snakemake`` in ``workdir`` on the micro config; ``cores=None`` for --unlock and co."""
    cmd = [
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
    ]
    if cores is not None:
        cmd += ["--cores", str(cores)]
    return [*cmd, *args]


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """Rule -> job count from the "Job stats" table a dry run prints."""
    counts: dict[str, int] = {}
    lines = dry_run_output.splitlines()
    if "Job stats:" not in lines:
        return counts
    for line in lines[lines.index("Job stats:") + 3 :]:
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit() or fields[0] == "total":
            break
        counts[fields[0]] = int(fields[1])
    return counts
