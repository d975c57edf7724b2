"""Extraction images/s and fine-tuning iterations/s: JPEG decoding (old) vs prepared pixels (new).

    python benchmarks/bench_pixels.py --before /work/main --after . [--repeat 2]

Two sizes: the demo (synthetic synth_market domain of config/config.yaml, 64x32 images, model
64x32) and the paper's input size (a synthetic domain of Market-like 128x64 JPEGs, read by a
256x128 model, as Market-1501's 128x64 crops are). Each measurement is one fresh process of
one checkout, like a workflow job: ``before`` decodes JPEGs (its per-process cache included),
``after`` reads the array ``prepare_dataset`` wrote. Runs are interleaved, before/after, so a
loaded machine hits both alike. The model is resnet_tiny at both sizes so that the data path
is visible on a CPU (a ResNet-50 step at 256x128 would hide it); ``loader`` columns time the
data path alone. The one-off preparation cost (decode + check + write) is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = r"""
import inspect, json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from secret_core import BRANCHES
from secret_core.data import build_eval_loader, build_train_loader, read_dataset
from secret_core.refinement.labels import reindex
from secret_core.engine import build_optimizer, extract_features, train_epoch
from secret_core.losses import LossConfig
from secret_core.pipeline.models import new_model

root, height, width, summary, batch, iterations = sys.argv[1:7]
height, width, batch, iterations = int(height), int(width), int(batch), int(iterations)
train = read_dataset(root).train
new = "pixels" in inspect.signature(build_eval_loader).parameters
extra = {}
if new:
    from secret_core.pipeline.datasets import open_pixels
    extra["pixels"] = open_pixels(summary, "train", train, height, width)
out = {}
torch.manual_seed(0)
model = new_model({"arch": "resnet_tiny"}, 0)
loader = build_eval_loader(train, height=height, width=width, batch_size=128, **extra)
t = time.perf_counter(); n = sum(len(b["index"]) for b in loader)
out["loader_eval_img_s"] = n / (time.perf_counter() - t)
loader = build_eval_loader(train, height=height, width=width, batch_size=128, **extra)
t = time.perf_counter(); extract_features(model, loader)
out["extract_img_s"] = len(train) / (time.perf_counter() - t)
pids = reindex(np.array([r.pid for r in train]))
labels = np.repeat(pids[:, None], 3, axis=1)
def train_loader():
    return build_train_loader(train, labels, pids, height=height, width=width,
        batch_size=batch, num_instances=4, iterations=iterations, seed=1,
        random_erasing=0.5, **extra)
t = time.perf_counter(); m = sum(len(b["index"]) for b in train_loader())
out["loader_train_img_s"] = m / (time.perf_counter() - t)
num = int(pids.max()) + 1
model = new_model({"arch": "resnet_tiny"}, {b: num for b in BRANCHES})
opt = build_optimizer(model, lr=3.5e-4, weight_decay=5e-4)
t = time.perf_counter()
train_epoch(model, train_loader(), opt, branches=BRANCHES, loss_cfg=LossConfig(), epoch=1,
            progress=False)
out["finetune_it_s"] = iterations / (time.perf_counter() - t)
print(json.dumps(out))
"""

COLUMNS = ("extract_img_s", "finetune_it_s", "loader_eval_img_s", "loader_train_img_s")


def make_domains(folder: Path) -> dict[str, tuple[Path, int, int]]:
    """{label: (dataset root, model height, model width)} of the two benchmarked sizes."""
    from secret_core.synthetic import SyntheticDomainSpec, generate_domain

    specs = {
        "demo 64x32": (dict(style="synth_a", seed=11, num_test_ids=60, num_cameras=6), 64, 32),
        "256x128": (dict(style="synth_a", seed=12, num_test_ids=20, num_cameras=6), 128, 64),
    }
    sizes = {"demo 64x32": (64, 32), "256x128": (256, 128)}
    domains = {}
    for label, (spec, img_h, img_w) in specs.items():
        root = folder / label.split()[0]
        generate_domain(
            SyntheticDomainSpec(
                name=root.name,
                num_ids=100,
                images_per_id_per_camera=2,
                height=img_h,
                width=img_w,
                **spec,
            ),
            root,
        )
        domains[label] = (root, *sizes[label])
    return domains


def prepare(root: Path, height: int, width: int) -> tuple[Path, float, int]:
    """Write the prepared array with the new code; (summary path, seconds, images)."""
    from secret_core.data import read_dataset
    from secret_core.data.prepared import write_pixels
    from secret_core.io import write_json

    dataset = read_dataset(root)
    out = root.parent / f"{root.name}_prepared"
    start = time.perf_counter()
    info = write_pixels(
        dataset, height, width, out / "pixels.npy", out / "files.npz", out / "bad.txt"
    )
    seconds = time.perf_counter() - start
    summary = out / "summary.json"
    write_json(summary, {"name": root.name, "root": str(root), "pixels": info})
    return summary, seconds, info["splits"]["gallery"][1]


def run_worker(checkout: Path, args: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, *args], env=env, cwd=checkout, capture_output=True, text=True
    )
    if proc.returncode:
        raise SystemExit(f"{checkout}: benchmark worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="old checkout (e.g. main)")
    parser.add_argument("--after", type=Path, default=Path("."), help="new checkout")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (shared: noisy)")
    print(f"model resnet_tiny, 1 thread, batch {args.batch}, {args.iterations} iterations")
    with tempfile.TemporaryDirectory() as tmp:
        domains = make_domains(Path(tmp))
        header = f"{'size':11} {'code':7}" + "".join(f"{c:>20}" for c in COLUMNS)
        rows = []
        for label, (root, height, width) in domains.items():
            summary, seconds, n = prepare(root, height, width)
            print(
                f"{label}: prepared {n} images once in {seconds:.1f} s "
                f"({n / seconds:.0f} images/s, decode + check + write)"
            )
            worker_args = [str(root), str(height), str(width), str(summary)]
            worker_args += [str(args.batch), str(args.iterations)]
            results: dict[str, list[dict[str, float]]] = {k: [] for k in checkouts}
            for _ in range(args.repeat):
                for name, checkout in checkouts.items():  # interleaved
                    results[name].append(run_worker(checkout, worker_args))
            for name, runs in results.items():
                med = [statistics.median(r[c] for r in runs) for c in COLUMNS]
                rows.append(f"{label:11} {name:7}" + "".join(f"{v:20.2f}" for v in med))
        print(header)
        print("\n".join(rows))


if __name__ == "__main__":
    main()
