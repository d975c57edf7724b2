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

Each case is also compared, in the same run, with Snakemake's own cost on this machine: the
dry run of a generated workflow of about as many jobs that holds nothing of ours (chains of
two-rule epochs, one input, one output and a shell command per job; ``floor_snakefile``).
Machines differ by 2x and more in that floor, so the ratio and the seconds above the floor
are what a change to this workflow moves; the goals are absolute seconds on a 2-core machine.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
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
    return timed(cmd, env, f"dry run of {case.name} in {checkout}")


def timed(cmd: list[str], env: dict[str, str], what: str) -> Timing:
    """Run one dry run; its wall and CPU seconds and its per-rule job counts."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SystemExit(f"{what} failed:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, job_counts(done.stdout + done.stderr))


FLOOR_EPOCHS = 80  # epochs per chain in the floor workflow, as in the paper's experiments


def floor_snakefile(jobs: int) -> str:
    """A workflow of about ``jobs`` jobs (never fewer) with nothing of ours in it.

    Chains of FLOOR_EPOCHS epochs, as many as ``jobs`` needs; each epoch is two jobs, as ours
    (pseudo_labels, then finetune), the first reading the previous epoch's output through an
    input function. Its dry run is what Snakemake itself costs per job on this machine:
    start-up, DAG, printing.
    """
    chains = max(1, math.ceil((jobs - 1) / (2 * FLOOR_EPOCHS)))
    return textwrap.dedent(
        f"""\
        wildcard_constraints:
            epoch=r"\\d+",


        rule all:
            input:
                expand("r/c{{chain}}/e{FLOOR_EPOCHS}/b", chain=range({chains})),


        def previous(wc):
            epoch = int(wc.epoch)
            return f"r/c{{wc.chain}}/e{{epoch - 1}}/b" if epoch > 1 else []


        rule a:
            input:
                previous,
            output:
                "r/c{{chain}}/e{{epoch}}/a",
            shell:
                "touch {{output}}"


        rule b:
            input:
                "r/c{{chain}}/e{{epoch}}/a",
            output:
                "r/c{{chain}}/e{{epoch}}/b",
            shell:
                "touch {{output}}"
        """
    )


def floor_dry_run(jobs: int, scratch: Path) -> Timing:
    """The dry run of ``floor_snakefile(jobs)``, with the flags ``dry_run`` gives ours and the
    scheduler our profile sets, in a new folder."""
    workdir = Path(tempfile.mkdtemp(prefix="floor_", dir=scratch))
    snakefile = workdir / "Snakefile"
    snakefile.write_text(floor_snakefile(jobs))
    cmd = [sys.executable, "-m", "snakemake", "all", "-n", "--quiet", "rules"]
    cmd += ["--snakefile", str(snakefile), "--directory", str(workdir), "--scheduler", "greedy"]
    return timed(cmd, dict(os.environ), "the floor workflow")


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


def floor_line(case: Case, floor: list[Timing], ours: list[Timing]) -> str:
    """The floor workflow's median wall time and ms per job, and ours against it."""
    floor_wall = statistics.median(t.wall_s for t in floor)
    ours_wall = statistics.median(t.wall_s for t in ours)
    jobs = floor[0].jobs.get("total", 0)
    ours_jobs = ours[0].jobs.get("total", 0)
    per_job = 1000 * floor_wall / jobs if jobs else float("nan")
    ratio = (ours_wall / ours_jobs) / (floor_wall / jobs) if jobs and ours_jobs else float("nan")
    return (
        f"{case.name:14s} {'floor':7s} {floor_wall:7.1f} s wall {'':13s} {jobs:7d} jobs "
        f"{per_job:6.2f} ms/job  Snakemake alone; after: {ratio:.2f}x its cost per job, "
        f"{ours_wall - floor_wall * ours_jobs / jobs:.1f} s above it"
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
            floor: list[Timing] = []
            for _ in range(args.repeat):
                for label, checkout in checkouts.items():
                    runs[label].append(dry_run(checkout, case, data_root, Path(tmp)))
                floor.append(floor_dry_run(runs["after"][0].jobs.get("total", 1), Path(tmp)))
            for label in checkouts:
                print(summary_line(label, case, runs[label]), flush=True)
            print(floor_line(case, floor, runs["after"]), flush=True)
            counts = {label: timings[0].jobs for label, timings in runs.items()}
            print(f"{'':14s} jobs per rule: {counts['after']}")
            if args.before and counts["before"] != counts["after"]:
                mismatched.append(case.name)
                print(f"{'':14s} DIFFERENT job counts before: {counts['before']}")
    if mismatched and not args.plan_changed:
        raise SystemExit(f"job counts differ between the checkouts: {', '.join(mismatched)}")


if __name__ == "__main__":
    main()
