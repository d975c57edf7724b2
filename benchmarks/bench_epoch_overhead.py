"""Per-epoch orchestration overhead: what one target epoch's jobs cost beyond their compute.

    python benchmarks/bench_epoch_overhead.py [--configfile tests/micro_config.yaml] [--repeat 3]

Runs the workflow (this checkout's Snakefile, in a scratch folder, ``--notemp`` so every
input stays) up to epoch 2's evaluation of one SECRET experiment, then, for each job of epoch
2 (pseudo_labels, finetune with the next epoch's extraction, evaluate):

* **job wall** is Snakemake's own ``s`` column of the job's ``benchmark:`` file (the job is
  forced to run again ``--repeat`` times and the median is taken);
* **compute** is the same library call with the same settings and inputs, timed inside this
  one warm process (imports done, files in the page cache), median of ``--repeat`` runs.

Their difference is the job's orchestration overhead: interpreter and import start-up,
Snakemake's script preamble, thread set-up, loading inputs a warm process already holds. The
goal (issue 12) is at most 10 s summed over one epoch of one experiment at micro size on an
idle 2-core machine. Epoch 2 is used because epoch 1's extraction and clustering are the
start model's, shared by every variant.

The same run measures the part of that overhead no change of ours can remove: the **import
floor**, a fresh interpreter importing only the third-party packages the stage's call
imports (found by running the call once in a fresh interpreter: torch and torchvision for
the network stages, numpy, scipy, scikit-learn and faiss for clustering). "above floor" is
the rest: our modules, Snakemake's script preamble, reading inputs, writing outputs.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]  # this checkout first
GOAL_SECONDS = 10.0
WILDCARDS = {"setting": "uda", "variant": "secret", "seed": "1"}


def snakemake(workdir: Path, configfile: str, target: str, *options: str) -> None:
    """One Snakemake call of this checkout on ``workdir``; its stderr tail on failure.

    The target comes first: ``--configfile``, ``--quiet`` and ``--allowed-rules`` take
    several values and would swallow a target placed after them.
    """
    cmd = [sys.executable, "-m", "snakemake", target, "--snakefile", str(ROOT / "Snakefile")]
    cmd += ["--directory", str(workdir), "--cores", "1", "--notemp", "--configfile", configfile]
    cmd += ["--quiet", "all", *options]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"snakemake failed:\n{(proc.stdout + proc.stderr)[-3000:]}")


def job_wall(benchmark_tsv: Path) -> float:
    """Snakemake's measured wall time (column ``s``) of the last run in a benchmark file."""
    with open(benchmark_tsv) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return float(rows[-1]["s"])


def run_spec(spec: dict) -> None:
    """Call the library function a JSON-able spec names (module, function, args, kwargs)."""
    module = importlib.import_module(spec["module"])
    getattr(module, spec["function"])(*spec["args"], **spec["kwargs"])


def loaded_third_party_packages() -> list[str]:
    """Top-level packages this interpreter has imported that are neither the standard
    library, nor files of this checkout, nor runtime artefacts of extension modules."""
    found = set()
    for name in {module.split(".")[0] for module in sys.modules} - set(sys.stdlib_module_names):
        origin = getattr(getattr(sys.modules.get(name), "__spec__", None), "origin", None)
        ours = origin is not None and Path(origin).resolve().is_relative_to(ROOT)
        if name.isidentifier() and not name.startswith("_") and origin and not ours:
            found.add(name)
    return sorted(found)


# A fresh interpreter: this script's module (standard library only at import), one stage's
# call, then the packages that call imported.
CALL_IN_FRESH_INTERPRETER = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_epoch_overhead as bench; "
    "bench.run_spec(json.loads(sys.argv[2])); print(json.dumps(bench.loaded_third_party_packages()))"
)


def third_party_imports(spec: dict) -> list[str]:
    """The third-party packages a fresh interpreter imports to run ``spec``'s call."""
    here = str(Path(__file__).resolve().parent)
    proc = subprocess.run(
        [sys.executable, "-c", CALL_IN_FRESH_INTERPRETER, here, json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise SystemExit(
            f"{spec['function']} in a fresh interpreter failed:\n{proc.stderr[-2000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def import_floor(packages: list[str], repeat: int) -> float:
    """Median wall seconds of a fresh interpreter that only imports ``packages``."""
    code = "import " + ", ".join(packages) if packages else "pass"
    return median_time(lambda: subprocess.run([sys.executable, "-c", code], check=True), repeat)


def median_time(call: Callable[[], None], repeat: int) -> float:
    """Median seconds of ``repeat`` calls after one warm-up call."""
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default=str(ROOT / "tests" / "micro_config.yaml"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scratch", help="work folder (default: a temporary one)")
    args = parser.parse_args()

    from diag_experiment import load_config

    import secret_core.workflow as wf
    from secret_core.device import configure_threads
    from secret_core.workflow import layout

    config, variants = load_config(args.configfile)
    configure_threads(int(config.get("threads_per_job", 1)))
    task = next(iter(config["tasks"]))
    wc = {**WILDCARDS, "task": task}
    workdir = Path(args.scratch or tempfile.mkdtemp(prefix="bench-overhead-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    def f(name: str, epoch: int = 2) -> Path:
        return workdir / layout.epoch_file(wc, epoch, name)

    print(f"workflow up to epoch 2 of {task}/secret in {workdir} ...", flush=True)
    snakemake(workdir, args.configfile, str(f("eval.json").relative_to(workdir)))
    spaces = wf.clustered_spaces(variants, "secret")
    jobs = ["pseudo_labels", "finetune", "evaluate"]
    outputs = {
        "pseudo_labels": [f("refined.npz")],
        "finetune": [f("train.json")],
        "evaluate": [f("eval.json")],
    }
    walls: dict[str, list[float]] = {job: [] for job in jobs}
    for _ in range(args.repeat):
        for job in jobs:
            target = str(outputs[job][0].relative_to(workdir))
            snakemake(workdir, args.configfile, target, "--force", "--allowed-rules", *_rules(job))
            walls[job].append(job_wall(f(f"benchmarks/{job}.tsv")))

    target = str(workdir / f"results/data/{config['tasks'][task]['target']}/summary.json")
    # the in-process calls resolve the workflow's relative paths from the work folder
    os.chdir(workdir)
    ewc = {**wc, "epoch": "002"}
    previous, scratch = str(f("model.pt", 1)), workdir / "inprocess"
    scratch.mkdir(exist_ok=True)

    def settings(stage: str, **extra: str) -> dict:
        return wf.stage_settings(config, variants, stage, ewc | extra)

    # epoch 1's clusters (whose eps later epochs reuse) live beside the shared start model
    target_name = config["tasks"][task]["target"]
    first_clusters = [
        str(next(workdir.glob(f"results/**/target_{target_name}/cluster_{s}.json"))) for s in spaces
    ]
    features = f("features_after.npz", 1)  # what epoch 1's finetune extracted for epoch 2
    specs: dict[str, dict] = {
        "pseudo_labels": {
            "module": "secret_core.pipeline.pseudo_labels",
            "function": "label_epoch",
            "args": [
                spaces,
                first_clusters,
                target,
                {"cluster": settings("cluster"), "refine": settings("refine")},
                str(scratch / "refined.npz"),
                str(scratch / "refine.json"),
            ],
            "kwargs": {"features_path": str(features)},
        },
        "finetune": {
            "module": "secret_core.pipeline.training",
            "function": "finetune_then_extract",
            "args": [
                previous,
                str(features),
                str(f("refined.npz")),
                target,
                settings("finetune"),
                str(scratch / "model.pt"),
                str(scratch / "train.json"),
                settings("extract", epoch="003"),
                str(scratch / "features_after.npz"),
            ],
            "kwargs": {},
        },
        "evaluate": {
            "module": "secret_core.pipeline.evaluation_stage",
            "function": "evaluate_checkpoint",
            "args": [str(f("model.pt")), target, settings("evaluate"), str(scratch / "eval.json")],
            "kwargs": {},
        },
    }
    import logging

    logging.getLogger("secret").setLevel(logging.WARNING)
    header = ("job wall s", "compute s", "overhead s", "import floor s", "above floor s")
    print(f"\n{'job':14s}" + "".join(f"{h:>15s}" for h in header))
    totals = [0.0] * len(header)
    imported: dict[str, list[str]] = {}
    for job in jobs:
        wall = statistics.median(walls[job])
        compute = median_time(lambda job=job: run_spec(specs[job]), args.repeat)
        imported[job] = third_party_imports(specs[job])
        floor = import_floor(imported[job], args.repeat)
        row = (wall, compute, wall - compute, floor, wall - compute - floor)
        totals = [t + v for t, v in zip(totals, row, strict=True)]
        print(f"{job:14s}" + "".join(f"{v:15.2f}" for v in row))
    print(f"{'one epoch':14s}" + "".join(f"{v:15.2f}" for v in totals))
    for job in jobs:
        print(f"  {job} imports: {', '.join(imported[job])}")
    verdict = "met" if totals[2] <= GOAL_SECONDS else "NOT met"
    print(f"\ngoal: overhead <= {GOAL_SECONDS:.0f} s per epoch of one experiment: {verdict}")


def _rules(job: str) -> list[str]:
    """The rules that may make ``job``'s output (finetune_kept at a kept epoch, finetune_final
    at the last)."""
    return ["finetune", "finetune_kept", "finetune_final"] if job == "finetune" else [job]


if __name__ == "__main__":
    main()
