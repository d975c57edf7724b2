"""Pseudo-label step at Market and MSMT17 sizes: kNN, Jaccard, eps, DBSCAN, refinement.

    python benchmarks/bench_cluster.py --sizes 12936 32621

Prints time and peak added resident memory per step, the raw faiss kNN time (the floor any
Jaccard implementation pays) and, at a size that fits, the dense reference implementation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _measure import measure

from secret_core.clustering import choose_eps, cluster, jaccard_distance, knn
from secret_core.refinement import mutual_refine


def blobs(n: int, dim: int, seed: int) -> np.ndarray:
    """Clustered features like a Re-ID set: ~17 images per identity around its centre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 17, 1), dim)).astype(np.float32)
    x = centres[rng.integers(len(centres), size=n)]
    x += 0.9 * rng.normal(size=x.shape).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def run(n: int, dim: int, k1: int, k2: int) -> list[tuple[str, float, float]]:
    feats = blobs(n, dim, seed=n)
    rows = []
    _, t, m = measure(lambda: knn(feats, k1))
    rows.append(("raw faiss kNN (floor)", t, m))
    dists = {}
    for name in ("global", "top", "bottom"):
        space = feats if name == "global" else blobs(n, dim, seed=n + len(name))
        dist, t, m = measure(lambda s=space: jaccard_distance(s, k1, k2))
        dists[name] = (space, dist)
        rows.append((f"kNN + Jaccard ({name})", t, m))
    eps, t, m = measure(lambda: choose_eps(dists["global"][1], 1.6e-3))
    rows.append((f"eps (= {eps:.3f})", t, m))
    labels = {}
    for name, (space, dist) in dists.items():
        labels[name], t, m = measure(lambda s=space, d=dist: cluster(s, eps, 4, distance=d))
        rows.append((f"DBSCAN ({name}, {labels[name].max() + 1} clusters)", t, m))
    _, t, m = measure(lambda: mutual_refine(labels["global"], labels["top"], labels["bottom"]))
    rows.append(("mutual refinement", t, m))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12936, 32621])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--dense-size", type=int, default=3000)
    args = parser.parse_args()
    print(f"{'N':>6}  {'step':<40} {'seconds':>8} {'peak MiB':>9}")
    for n in args.sizes:
        rows = run(n, args.dim, 30, 6)
        for step, t, m in rows:
            print(f"{n:>6}  {step:<40} {t:>8.2f} {m:>9.0f}")
        floor = rows[0][1]
        one_space = rows[1][1]
        print(f"{n:>6}  {'one space: Jaccard / raw kNN':<40} {one_space / floor:>8.2f}x")
    from jaccard_reference import dense_jaccard

    n = args.dense_size
    feats = blobs(n, args.dim, seed=1)
    _, t, m = measure(lambda: dense_jaccard(feats.astype(np.float64), 30, 6))
    _, ts, ms = measure(lambda: jaccard_distance(feats, 30, 6))
    print(f"{n:>6}  {'dense reference Jaccard (loops, N^2)':<40} {t:>8.2f} {m:>9.0f}")
    print(f"{n:>6}  {'sparse Jaccard, same input':<40} {ts:>8.2f} {ms:>9.0f}")


if __name__ == "__main__":
    main()
