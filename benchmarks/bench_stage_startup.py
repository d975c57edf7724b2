"""Wall time and peak RSS of one clustering job, old code beside new code, in one run.

Each measurement runs ``workflow_scripts/cluster.py`` of a checkout in a fresh interpreter
(as Snakemake's ``script:`` does, with a stand-in ``snakemake`` object), so it includes the
start-up the job pays: imports, thread set-up, reading features, Jaccard + DBSCAN, writing.
Runs of the two checkouts are interleaved so that a loaded machine hits both alike.

    python benchmarks/bench_stage_startup.py --before /work/main --after . --repeat 3

Sizes: micro (tests/micro_config.yaml, N = 72) and demo (config/config.yaml, N = 1,200).

With ``--workflow`` the real rule is measured instead: each checkout's Snakefile runs the
chain up to one epoch-1 clustering job (``cluster_start``) in its own scratch folder (``--config-name micro`` or
``demo``), then that job is forced to run again ``--repeat`` times, interleaved, and its
``benchmark:`` TSV (Snakemake's own wall time ``s`` and ``max_rss``) is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES: dict[str, int] = {"micro": 72, "demo": 1200}
DRIVER = """
import runpy, sys
from types import SimpleNamespace
d = sys.argv[1]
snakemake = SimpleNamespace(
    input=SimpleNamespace(features=d + "/features.npz", eps_from=[]),
    output=SimpleNamespace(labels=d + "/labels.npy", stats=d + "/stats.json"),
    params=SimpleNamespace(settings={"space": "global", "k1": 15, "k2": 4, "device": "cpu",
        "max_distance": 1.0, "eps": 0.6, "rho": 0.02, "min_samples": 3, "run": {"epoch": 1}}),
    log=[d + "/cluster.log"], threads=1, rule="cluster")
runpy.run_path(sys.argv[2], init_globals={"snakemake": snakemake})
import json
print(json.dumps({"torch": "torch" in sys.modules}))
"""


def make_features(folder: Path, n: int, dim: int = 128, seed: int = 0) -> None:
    """Clustered unit features (about 12 per identity, like the demo's train split)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // 12), dim))
    feats = centres[rng.integers(0, len(centres), n)] + 0.4 * rng.normal(size=(n, dim))
    feats = (feats / np.linalg.norm(feats, axis=1, keepdims=True)).astype(np.float32)
    np.savez(folder / "features.npz", **{b: feats for b in ("global", "top", "bottom")})


def run_job(checkout: Path, folder: Path) -> tuple[float, float, bool]:
    """(wall seconds, peak RSS MiB, torch imported) of one clustering job of ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    script = checkout / "workflow_scripts" / "cluster.py"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(folder), str(script)],
        env=env,
        cwd=checkout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{checkout}: clustering job failed:\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, '"torch": true' in out


# The start model's shared epoch-1 clustering (rule cluster_start), one space per job.
WORKFLOW = {
    "micro": (
        "tests/micro_config.yaml",
        "results/pretrain/micro_src/bn_micro_tgt/seed1/target_micro_tgt",
    ),
    "demo": (
        "config/config.yaml",
        "results/pretrain/synth_duke/bn_synth_market/seed1/target_synth_market",
    ),
}


def _snakemake(checkout: Path, workdir: Path, config: str, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    cmd = ["snakemake", "--snakefile", str(checkout / "Snakefile"), "--directory", str(workdir)]
    # --notemp keeps the epoch's features (temporary in the workflow) for the forced reruns.
    cmd += ["--configfile", str(checkout / config), "--cores", "1", "--notemp"]
    cmd += [*args, "--quiet", "all"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{checkout}: snakemake failed:\n{proc.stderr[-3000:]}")


def workflow_mode(checkouts: dict[str, Path], size: str, repeat: int, scratch: Path) -> None:
    """Snakemake's own benchmark of the clustering rule, per checkout, reruns interleaved."""
    config, shared_dir = WORKFLOW[size]
    target = f"{shared_dir}/cluster_global.json"
    tsv = f"{shared_dir}/benchmarks/cluster_global.tsv"
    workdirs = {name: scratch / f"{size}_{name}" for name in checkouts}
    for name, checkout in checkouts.items():
        _snakemake(checkout, workdirs[name], config, target)
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
    for _ in range(repeat):
        for name, checkout in checkouts.items():  # interleaved
            _snakemake(checkout, workdirs[name], config, "--force", target)
            lines = (workdirs[name] / tsv).read_text().splitlines()
            head, values = lines[0].split("\t"), lines[1].split("\t")
            rows[name].append(
                (float(values[head.index("s")]), float(values[head.index("max_rss")]))
            )
    for name, runs in rows.items():
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        print(
            f"{size:6} rule cluster_start (benchmark TSV) {name:7} s {wall:6.2f}  "
            f"max_rss {rss:6.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="old checkout (e.g. main)")
    parser.add_argument("--after", type=Path, default=Path("."), help="new checkout")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workflow", choices=sorted(WORKFLOW), help="measure the real rule")
    parser.add_argument("--scratch", type=Path, help="keep the workflow runs here")
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (shared: noisy)")
    if args.workflow:
        if args.scratch:
            workflow_mode(checkouts, args.workflow, args.repeat, args.scratch.resolve())
        else:
            with tempfile.TemporaryDirectory() as tmp:
                workflow_mode(checkouts, args.workflow, args.repeat, Path(tmp))
        return
    print(f"{'size':6} {'N':>6} {'code':7} {'wall s (median)':>16} {'max RSS MiB':>12} torch")
    for size, n in SIZES.items():
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            make_features(folder, n)
            results: dict[str, list[tuple[float, float, bool]]] = {k: [] for k in checkouts}
            for _ in range(args.repeat):
                for name, checkout in checkouts.items():  # interleaved
                    results[name].append(run_job(checkout, folder))
            for name, runs in results.items():
                wall = statistics.median(r[0] for r in runs)
                rss = max(r[1] for r in runs)
                print(f"{size:6} {n:6d} {name:7} {wall:16.2f} {rss:12.0f} {runs[0][2]}")


if __name__ == "__main__":
    main()
