"""Evaluation time and peak memory at Market (3,368 x 15,913) and MSMT17 (11,659 x 82,161).

    python benchmarks/bench_eval.py

Random data with realistic id and camera counts (Market: 750 ids, 6 cameras; MSMT17:
3,060 test ids, 15 cameras), features of 128 dims around per-id centres, ranked with ``--metric`` (default: the one
config/paper.yaml's ``evaluation.distance`` gives the pipeline). Rows:
- "evaluate, distances given": the matrix exists beforehand (distance time excluded);
- "distances only": the chunked distance pass alone, for subtraction;
- "evaluate + distances": ``evaluate`` on a ``(start, stop) -> rows`` provider that computes
  each chunk of distances from the features (distance time included). At MSMT size the
  matrix (3.8 GB in float32) is never built.
Peak MiB is resident memory added during the step (sampled), beyond inputs already held.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure

from secret_core.evaluation import evaluate, pairwise_distance

ROOT = Path(__file__).resolve().parents[1]
DIM = 128


def problem(nq: int, ng: int, ids: int, cams: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(ids, DIM)).astype(np.float32)
    qp, gp = rng.integers(ids, size=nq), rng.integers(ids, size=ng)
    qc, gc = rng.integers(cams, size=nq), rng.integers(cams, size=ng)

    def feats(pids: np.ndarray) -> np.ndarray:
        x = centres[pids] + 1.2 * rng.normal(size=(len(pids), DIM)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return feats(qp), feats(gp), qp, gp, qc, gc


def row(size: str, what: str, seconds: float, mib: float | None) -> None:
    mem = f"{mib:9.0f}" if mib is not None else f"{'-':>9}"
    print(f"| {size:<20} | {what:<34} | {seconds:8.2f} | {mem} |")


def bench(size: str, nq: int, ng: int, ids: int, cams: int, dense: bool, metric: str) -> None:
    qf, gf, qp, gp, qc, gc = problem(nq, ng, ids, cams)

    def rows(start: int, stop: int) -> np.ndarray:
        return pairwise_distance(qf[start:stop], gf, metric)

    if dense:
        dist = pairwise_distance(qf, gf, metric)
        result, t, m = measure(lambda: evaluate(dist, qp, gp, qc, gc))
        row(size, "evaluate, distances given", t, m)
        del dist

    def distances_only() -> None:
        for start in range(0, nq, 256):
            rows(start, min(start + 256, nq))

    _, t_dist, m = measure(distances_only)
    row(size, "distances only (chunked)", t_dist, m)
    result, t, m = measure(lambda: evaluate(rows, qp, gp, qc, gc))
    row(size, "evaluate + distances", t, m)
    row(size, "  => evaluate alone (difference)", t - t_dist, None)
    print(
        f"|   mAP {result['mAP']:.3f}, Rank-1 {result['cmc'][0]:.3f}, valid queries "
        f"{result['num_valid_queries']}, skipped {result['num_skipped_queries']}"
    )


def main() -> None:
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metric", default=paper["evaluation"]["distance"])
    args = parser.parse_args()
    print(f"distance: {args.metric}")
    print(f"| {'size':<20} | {'what':<34} | {'seconds':>8} | {'peak MiB':>9} |")
    print(f"|{'-' * 22}|{'-' * 36}|{'-' * 10}|{'-' * 11}|")
    bench("Market 3368x15913", 3368, 15913, 750, 6, dense=True, metric=args.metric)
    bench("MSMT17 11659x82161", 11659, 82161, 3060, 15, dense=False, metric=args.metric)


if __name__ == "__main__":
    main()
