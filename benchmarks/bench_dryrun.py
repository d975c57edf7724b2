"""Time the dry run of ``all`` (building the DAG) against the goals, in one run.

A dry run is what a user waits for before every run and after every config change (``-n``
lists what a change reruns), and Snakemake builds the same DAG before every real run too. Its
cost grows with the number of jobs: config/paper.yaml plans about 20,000 (three settings'
80 epochs of every variant), three seeds about 60,000. Goals: 15 s for the paper's config,
45 s with ``seeds: [1, 2, 3]``; config/config.yaml (the demo, about 1,200 jobs) is printed
for scale.

    python benchmarks/bench_dryrun.py                       # this checkout, every case
    python benchmarks/bench_dryrun.py --cases paper         # one case
    python benchmarks/bench_dryrun.py --before /path/to/old/checkout --repeat 2

Each run is ``python -m snakemake all -n --quiet rules`` of a checkout's Snakefile in a fresh
scratch folder (so an empty job-metadata database, as on a first dry run; the workflow
profile ``profiles/default/`` applies as it does for users), with ``PYTHONPATH`` set to the
checkout. The paper's datasets are stood in for by empty folders in their official layouts:
the up-front check only looks at folders and list files, and a dry run reads no image.
Printed per case: wall seconds (median over ``--repeat``), CPU seconds of the Snakemake
process, jobs, ms per job, and the goal. With ``--before``, runs of the two checkouts are
interleaved so that a machine shared with other work slows both alike, and the per-rule job
counts of the two are compared (they must be equal: a speed-up must not change the plan;
``--plan-changed`` prints both for a change that means to plan other jobs).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    """One dry run: a shipped config, extra ``--config`` values, and its goal (None: none)."""

    name: str
    configfile: str
    overrides: tuple[str, ...]
    goal_s: float | None
    real_data: bool


CASES: dict[str, Case] = {
    "paper": Case("paper", "config/paper.yaml", (), 15.0, True),
    "paper_3_seeds": Case("paper_3_seeds", "config/paper.yaml", ("seeds=[1,2,3]",), 45.0, True),
    "demo": Case("demo", "config/config.yaml", (), None, False),
}


@dataclass
class Timing:
    """One dry run's wall and CPU seconds and its per-rule job counts ("total" included)."""

    wall_s: float
    cpu_s: float
    jobs: dict[str, int]


def stand_in_datasets(root: Path) -> Path:
    """Empty Market-1501, DukeMTMC-reID and MSMT17 folders in the layouts paper.yaml names."""
    for name in ("Market-1501-v15.09.15", "DukeMTMC-reID"):
        for sub in ("bounding_box_train", "bounding_box_test", "query"):
            (root / name / sub).mkdir(parents=True, exist_ok=True)
    msmt = root / "MSMT17_V1"
    for sub in ("train", "test"):
        (msmt / sub).mkdir(parents=True, exist_ok=True)
    for split in ("train", "val", "query", "gallery"):
        (msmt / f"list_{split}.txt").touch()
    return root


def job_counts(output: str) -> dict[str, int]:
    """Rule -> job count from the "Job stats" table of a dry run (the first one printed)."""
    lines = output.splitlines()
    if "Job stats:" not in lines:
        return {}
    counts: dict[str, int] = {}
    for line in lines[lines.index("Job stats:") + 3 :]:
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit():
            break
        counts[fields[0]] = int(fields[1])
    return counts


def dry_run(checkout: Path, case: Case, data_root: Path, scratch: Path) -> Timing:
    """One dry run of ``all`` with ``checkout``'s Snakefile and package, in a new folder."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{case.name}_", dir=scratch))
    overrides = list(case.overrides)
    if case.real_data:
        overrides.append(f"data_root={data_root}")
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "all",
        "-n",
        "--quiet",
        "rules",
        "--snakefile",
        str(checkout / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(checkout / case.configfile),
    ]
    if overrides:
        cmd += ["--config", *overrides]
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SystemExit(f"dry run of {case.name} in {checkout} failed:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, job_counts(done.stdout + done.stderr))


def summary_line(label: str, case: Case, runs: list[Timing]) -> str:
    """Median wall and CPU seconds, jobs, ms per job and the verdict against the goal."""
    wall = statistics.median(t.wall_s for t in runs)
    cpu = statistics.median(t.cpu_s for t in runs)
    jobs = runs[0].jobs.get("total", 0)
    per_job = 1000 * wall / jobs if jobs else float("nan")
    if case.goal_s is None:
        verdict = "no goal"
    else:
        verdict = f"goal <= {case.goal_s:.0f} s: {'met' if wall <= case.goal_s else 'MISSED'}"
    return (
        f"{case.name:14s} {label:7s} {wall:7.1f} s wall {cpu:7.1f} s CPU {jobs:7d} jobs "
        f"{per_job:6.2f} ms/job  {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--after", type=Path, default=ROOT, help="checkout timed (default: this)")
    parser.add_argument("--before", type=Path, help="a second checkout, timed interleaved")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--plan-changed",
        action="store_true",
        help="the change is meant to plan other jobs: print both counts, do not fail",
    )
    args = parser.parse_args()

    checkouts = {"after": args.after.resolve()}
    if args.before:
        checkouts = {"before": args.before.resolve(), **checkouts}
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} (other work slows wall time)")
    mismatched = []
    with tempfile.TemporaryDirectory(prefix="bench_dryrun_") as tmp:
        data_root = stand_in_datasets(Path(tmp) / "datasets")
        for case in (CASES[name] for name in args.cases):
            runs: dict[str, list[Timing]] = {label: [] for label in checkouts}
            for _ in range(args.repeat):
                for label, checkout in checkouts.items():
                    runs[label].append(dry_run(checkout, case, data_root, Path(tmp)))
            for label in checkouts:
                print(summary_line(label, case, runs[label]), flush=True)
            counts = {label: timings[0].jobs for label, timings in runs.items()}
            print(f"{'':14s} jobs per rule: {counts['after']}")
            if args.before and counts["before"] != counts["after"]:
                mismatched.append(case.name)
                print(f"{'':14s} DIFFERENT job counts before: {counts['before']}")
    if mismatched and not args.plan_changed:
        raise SystemExit(f"job counts differ between the checkouts: {', '.join(mismatched)}")


if __name__ == "__main__":
    main()
