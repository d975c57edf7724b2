"""One target epoch of each stage at the paper's sizes, on the device the config gives.

    python benchmarks/bench_epoch.py --configfile config/paper.yaml

Prints images/s for feature extraction, iterations/s and images/s for fine-tuning, seconds of
clustering per feature space at N = 12,936 (Market-1501) and 32,621 (MSMT17) training
images, and the projected hours of one 80-epoch experiment on each target. The model (arch,
input size), batch sizes, iterations per epoch, epochs, evaluation interval, workers and the
clustering settings come from the config; the device comes from its ``device:`` key through
``secret_core.device`` (the project's one device switch), so on a GPU node this measures what
a real run will see.

Images are random uint8 pixels served through the real loaders from an in-memory pool (as the
prepared, memory-mapped dataset serves them), labels are P x K identities; clustering runs on
2,048-d Gaussian blobs (~17 images per identity). Nothing is downloaded (init: none).

On a CPU the paper's sizes would take hours, so a reduced run is made and said so: fewer
images, iterations and a smaller batch, clustering at smaller N; the rates it measures are
extrapolated (extraction and fine-tuning linearly, clustering with the growth exponent measured
between its two reduced sizes, bounded to [1, 2]: the exact kNN is N^2, the rest about N).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import blobs  # noqa: E402
from diag_experiment import load_config  # noqa: E402

PAPER_N = {"market": 12936, "msmt": 32621}
EVAL_N = {"market": 3368 + 15913, "msmt": 11659 + 82161}  # query + gallery
SPACES = ("global", "top", "bottom")
FEATURE_DIM = 2048
POOL = 256  # distinct images served in rotation


class PixelPool:
    """``n`` images served from a pool of ``POOL`` random ones (a stand-in for the prepared
    array: same dtype and shape, no gigabytes of RAM for the benchmark)."""

    def __init__(self, n: int, height: int, width: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.n = n
        self.pool = rng.integers(0, 256, size=(POOL, height, width, 3), dtype=np.uint8)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int | slice) -> np.ndarray:
        """One image, or a slice of them in one array (as extraction reads the array)."""
        if isinstance(index, slice):
            return self.pool[np.arange(*index.indices(self.n)) % POOL]
        return self.pool[index % POOL]


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_extract(cfg: dict, device, n: int, batch: int, workers: int) -> float:
    """Images/s of the extraction stage's loop (loader + forward), after one warm-up batch."""
    from secret_core.data import Record, build_eval_loader
    from secret_core.device import amp_enabled
    from secret_core.engine import extract_features
    from secret_core.pipeline.models import new_model

    model_cfg = {**cfg["model"], "init": "none"}
    h, w = model_cfg["height"], model_cfg["width"]
    model = new_model(model_cfg, 0).to(device)
    amp = amp_enabled(device, cfg.get("amp", True))

    def loader(count: int):
        records = [Record(f"synthetic/{i}.jpg", i // 4, i % 6) for i in range(count)]
        return build_eval_loader(
            records,
            height=h,
            width=w,
            batch_size=batch,
            num_workers=workers,
            pixels=PixelPool(count, h, w),
        )

    if device.type == "cuda":  # warm-up: cudnn autotuning and allocator caches
        extract_features(model, loader(batch), device=device, amp=amp)
        _sync(device)
    start = time.perf_counter()
    extract_features(model, loader(n), device=device, amp=amp)
    _sync(device)
    return n / (time.perf_counter() - start)


def bench_finetune(cfg: dict, device, iterations: int, batch: int, workers: int) -> float:
    """Iterations/s of the fine-tuning stage's loop (loader, forward, losses, backward, step)."""
    from secret_core import BRANCHES
    from secret_core.data import RandomErasingConfig, Record, build_train_loader
    from secret_core.device import amp_enabled
    from secret_core.engine import build_optimizer, train_epoch
    from secret_core.losses import LossConfig
    from secret_core.pipeline.models import new_model

    adapt, model_cfg = cfg["adapt"], {**cfg["model"], "init": "none"}
    h, w = model_cfg["height"], model_cfg["width"]
    k = int(adapt.get("num_instances", 4))
    n = max(PAPER_N["market"] // 8, 4 * batch)  # enough identities for P x K batches
    pids = np.arange(n) // 17
    labels = np.repeat(pids[:, None], len(BRANCHES), axis=1)
    records = [Record(f"synthetic/{i}.jpg", int(p), i % 6) for i, p in enumerate(pids)]
    num_classes = int(pids.max()) + 1
    model = new_model(model_cfg, {b: num_classes for b in BRANCHES}).to(device)
    optimizer = build_optimizer(
        model, lr=float(adapt["lr"]), weight_decay=float(adapt["weight_decay"])
    )
    erasing = RandomErasingConfig.from_config(adapt.get("random_erasing"), "adapt.random_erasing")
    loss_cfg = LossConfig.from_config(adapt.get("loss"), "adapt.loss")
    amp = amp_enabled(device, cfg.get("amp", True))

    def run(iters: int) -> None:
        loader = build_train_loader(
            records,
            labels,
            pids,
            height=h,
            width=w,
            batch_size=batch,
            num_instances=k,
            iterations=iters,
            seed=1,
            num_workers=workers,
            random_erasing=erasing,
            pixels=PixelPool(n, h, w),
        )
        train_epoch(
            model,
            loader,
            optimizer,
            branches=BRANCHES,
            loss_cfg=loss_cfg,
            epoch=1,
            device=device,
            amp=amp,
            progress=False,
        )

    if device.type == "cuda":  # warm-up: cudnn autotuning and allocator caches
        run(1)
        _sync(device)
    start = time.perf_counter()
    run(iterations)
    _sync(device)
    return iterations / (time.perf_counter() - start)


def bench_cluster(cfg: dict, n: int, device: str) -> float:
    """Seconds of one clustering job's work on one space: Jaccard (kNN inside), eps, DBSCAN."""
    from secret_core.clustering import choose_eps, cluster, jaccard_distance
    from secret_core.pipeline.pseudo_labels import eps_rho

    adapt = cfg["adapt"]
    feats = blobs(n, FEATURE_DIM, seed=n)
    max_distance = float(adapt.get("max_distance", 1.0))
    start = time.perf_counter()
    dist = jaccard_distance(
        feats, k1=int(adapt["k1"]), k2=int(adapt["k2"]), device=device, max_distance=max_distance
    )
    eps = choose_eps(dist, rho=eps_rho(adapt, n), max_distance=max_distance)
    cluster(feats, eps, min_samples=int(adapt["min_samples"]), distance=dist)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", type=Path, default=ROOT / "config" / "paper.yaml")
    parser.add_argument("--full", action="store_true", help="paper sizes even on a CPU (hours)")
    args = parser.parse_args()
    cfg, _ = load_config(str(args.configfile))  # the schema's defaults filled in

    import torch

    from secret_core.data.sampler import iterations_per_epoch
    from secret_core.device import configure_threads, resolve_device, use_faiss_gpu

    device = resolve_device(str(cfg.get("device", "auto")))
    threads = min(int(cfg.get("threads_per_job", 1) or 1), os.cpu_count() or 1)
    configure_threads(threads)
    adapt, model_cfg = cfg["adapt"], cfg["model"]
    batch = int(adapt["batch_size"])
    # the projection is for a Market-size target, as the authors' 400 iterations are
    iters = iterations_per_epoch(adapt["iterations"], PAPER_N["market"], batch)
    eval_batch = int(cfg.get("evaluation", {}).get("batch_size", batch))
    workers = int(cfg.get("num_workers", 0))
    reduced = device.type == "cpu" and not args.full
    if reduced:
        n_extract, eval_batch, batch_ft, iters_ft, workers = 16, 16, 8, 1, 0
        cluster_n = {"market": 1500, "msmt": 3000}
    else:
        n_extract, batch_ft, iters_ft = PAPER_N["market"], batch, min(iters, 100)
        cluster_n = dict(PAPER_N)
    faiss_on = "GPU" if use_faiss_gpu(str(cfg.get("device", "auto"))) else "CPU"
    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    print(f"config {args.configfile} | device {device}{gpu} | faiss on {faiss_on}")
    print(
        f"model {model_cfg['arch']} {model_cfg['height']}x{model_cfg['width']} | fine-tune "
        f"batch {batch_ft} | extraction batch {eval_batch} | {workers} loader workers | "
        f"{threads} CPU threads | AMP {'on' if device.type == 'cuda' and cfg.get('amp') else 'off'}"
    )
    if reduced:
        print(
            f"REDUCED RUN (CPU): {n_extract} images extracted, {iters_ft} fine-tune iterations "
            f"at batch {batch_ft} (config: {batch}), clustering at N = {cluster_n['market']} "
            f"and {cluster_n['msmt']} (paper: {PAPER_N['market']} and {PAPER_N['msmt']}); "
            "rates are extrapolated to the paper's sizes. "
            "Pass --full for the paper's sizes."
        )
    total_start = time.perf_counter()
    extract_rate = bench_extract(cfg, device, n_extract, eval_batch, workers)
    print(f"extraction: {extract_rate:.1f} images/s ({n_extract} images)")
    ft_rate = bench_finetune(cfg, device, iters_ft, batch_ft, workers)
    # Per image the fine-tuning cost scales with the batch: convert to the config's batch.
    ft_images = ft_rate * batch_ft
    it_rate = ft_images / batch
    note = f" (measured at batch {batch_ft}, scaled to {batch})" if batch_ft != batch else ""
    print(f"fine-tuning: {it_rate:.3f} iterations/s, {ft_images:.1f} images/s{note}")
    bench_cluster(cfg, 300, str(cfg.get("device", "auto")))  # warm-up: faiss import, threads
    measured = {
        target: bench_cluster(cfg, n, str(cfg.get("device", "auto")))
        for target, n in cluster_n.items()
    }
    # Reduced run: extrapolate with the growth measured between the two sizes (the exact
    # kNN is N^2, the Jaccard and DBSCAN steps about N), bounded to [N, N^2].
    (n1, t1), (n2, t2) = ((cluster_n[t], measured[t]) for t in PAPER_N)
    power = min(max(np.log(t2 / t1) / np.log(n2 / n1), 1.0), 2.0) if n1 != n2 else 2.0
    cluster_s = {}
    for target, n in cluster_n.items():
        seconds = measured[target]
        cluster_s[target] = seconds * (PAPER_N[target] / n) ** power
        extra = ""
        if n != PAPER_N[target]:
            extra = f" -> {cluster_s[target]:.1f} s at N = {PAPER_N[target]} (N^{power:.2f})"
        print(f"clustering {target} N = {n}: {seconds:.2f} s per space{extra}")
    epochs, every = int(adapt["epochs"]), int(adapt.get("eval_every", 10))
    evaluations = epochs // every + 1
    print(f"projected one {epochs}-epoch experiment ({len(SPACES)} spaces clustered per epoch, ")
    print(f"  {iters} iterations per epoch, {evaluations} evaluations; start-up not counted):")
    for target in PAPER_N:
        per_epoch = {
            "extract": PAPER_N[target] / extract_rate,
            "cluster": len(SPACES) * cluster_s[target],
            "finetune": iters / it_rate,
        }
        evaluate = evaluations * EVAL_N[target] / extract_rate
        hours = (epochs * sum(per_epoch.values()) + evaluate) / 3600
        parts = ", ".join(f"{k} {v:.0f} s" for k, v in per_epoch.items())
        print(
            f"  target {target}: {hours:.1f} h (per epoch: {parts}; evaluations {evaluate:.0f} s)"
        )
    print(f"benchmark wall time {time.perf_counter() - total_start:.0f} s")


if __name__ == "__main__":
    main()
