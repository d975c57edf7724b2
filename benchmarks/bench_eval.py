"""Evaluation at Market (3,368 x 15,913) and MSMT17 (11,659 x 82,161) sizes.

    python benchmarks/bench_eval.py

Random features with realistic id and camera counts. The baseline in the same run is the
usual per-query argsort implementation (full sort of each distance row), on a slice of the
queries, extrapolated to all of them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import measure

from secret_core.evaluation import evaluate, evaluate_features, pairwise_distance


def problem(nq: int, ng: int, ids: int, cams: int, dim: int = 256, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(ids, dim)).astype(np.float32)
    qp, gp = rng.integers(ids, size=nq), rng.integers(ids, size=ng)
    qc, gc = rng.integers(cams, size=nq), rng.integers(cams, size=ng)

    def feats(pids):
        x = centres[pids] + 1.5 * rng.normal(size=(len(pids), dim)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return {b: x for b in ("global", "top", "bottom")}

    return feats(qp), feats(gp), qp, gp, qc, gc


def argsort_baseline(dist, qp, gp, qc, gc) -> float:
    """The common loop: argsort every row, drop same-camera matches, average precision."""
    aps = []
    for i in range(len(qp)):
        order = np.argsort(dist[i])
        keep = ~((gp[order] == qp[i]) & (gc[order] == qc[i]))
        matches = (gp[order] == qp[i])[keep]
        if matches.any():
            hits = np.cumsum(matches)
            aps.append(float((hits[matches] / (np.flatnonzero(matches) + 1)).mean()))
    return float(np.mean(aps))


def bench(name: str, nq: int, ng: int, ids: int, cams: int) -> None:
    qf, gf, qp, gp, qc, gc = problem(nq, ng, ids, cams)
    if nq <= 5000:
        dist = pairwise_distance(qf["global"], gf["global"])
        _, t, m = measure(lambda: evaluate(dist, qp, gp, qc, gc))
        print(f"{name:<22} {'evaluate(distmat) (distances given)':<44} {t:>8.2f} {m:>9.0f}")
        sub = 300
        start = time.perf_counter()
        base_map = argsort_baseline(dist[:sub], qp[:sub], gp, qc[:sub], gc)
        t_base = (time.perf_counter() - start) * nq / sub
        print(f"{name:<22} {'argsort loop baseline (extrapolated)':<44} {t_base:>8.2f}")
        check = evaluate(dist[:sub], qp[:sub], gp, qc[:sub], gc)["mAP"]
        gap = abs(check - base_map)
        print(f"{name:<22} {'|mAP ours - baseline| on the slice':<44} {gap:>8.1e}")
    result, t, m = measure(lambda: evaluate_features(qf, gf, qp, gp, qc, gc))
    print(f"{name:<22} {'evaluate_features (distances included)':<44} {t:>8.2f} {m:>9.0f}")
    print(f"{name:<22} mAP {result['mAP']:.3f}, Rank-1 {result['cmc'][0]:.3f}")


def main() -> None:
    print(f"{'size':<22} {'what':<44} {'seconds':>8} {'peak MiB':>9}")
    bench("Market 3368x15913", 3368, 15913, 750, 6)
    bench("MSMT17 11659x82161", 11659, 82161, 3060, 15)


if __name__ == "__main__":
    main()
