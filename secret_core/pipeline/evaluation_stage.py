"""Evaluation stage: query/gallery retrieval with every inference feature of a checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from secret_core import BRANCHES
from secret_core.evaluation import evaluate_features
from secret_core.io import write_json
from secret_core.pipeline.datasets import open_dataset
from secret_core.pipeline.features import split_features
from secret_core.pipeline.runner import get_logger

# Per-query AP as stored in eval.json: 5 decimals keep the paired standard errors of
# ``reporting.resolution`` exact to 1e-5 mAP and a Market-size file at ~120 kB.
AP_DECIMALS = 5


def evaluate_checkpoint(
    model_path: str, data_summary: str, settings: dict[str, Any], out_path: str
) -> None:
    """mAP / CMC / mINP for global, top, bottom, the concatenation, and the joint distance
    over the eta sweep; each query's AP for the five features (not the sweep).

    Features are extracted once; the joint distance (paper Eq. 3) and its eta sweep
    (Figure 6) reuse them, so no extra training or extraction is needed for those rows. The
    joint distance sums ``evaluation.distance`` (euclidean or squared_euclidean) per space.
    """
    log = get_logger()
    dataset = open_dataset(data_summary)
    use_teacher = settings["mean_teacher"]
    qf, gf = split_features(
        model_path, data_summary, dataset, ("query", "gallery"), settings, use_teacher
    )
    q_pids, q_cams = _ids(dataset.query)
    g_pids, g_cams = _ids(dataset.gallery)

    def run(feature: str, eta: float = 1.0, per_query: bool = False) -> dict[str, Any]:
        result = evaluate_features(
            qf,
            gf,
            q_pids,
            g_pids,
            q_cams,
            g_cams,
            feature=feature,
            eta=eta,
            rerank=settings.get("rerank", False),
            distance=settings.get("distance", "euclidean"),
        )
        cmc = np.asarray(result["cmc"])
        metrics: dict[str, Any] = {
            "mAP": float(result["mAP"]),
            "rank1": float(cmc[0]),
            "rank5": float(cmc[min(4, len(cmc) - 1)]),
            "rank10": float(cmc[min(9, len(cmc) - 1)]),
            "mINP": float(result["mINP"]),
        }
        if per_query:  # lets a table say which gaps this test set resolves at all
            metrics["ap"] = [round(float(ap), AP_DECIMALS) for ap in result["ap"]]
        return metrics

    metrics = {feature: run(feature, per_query=True) for feature in BRANCHES}
    eta = float(settings["eta"])
    metrics["joint"] = run("joint", eta, per_query=True)
    metrics["concat"] = run("concat", per_query=True)  # naive SECRET's (its Table 3 row)
    sweep = {f"{e:g}": run("joint", float(e)) for e in settings.get("eta_sweep", [])}
    record = {
        "epoch": settings["run"]["epoch"],
        "eta": eta,
        "distance": settings.get("distance", "euclidean"),
        "features": metrics,
        "eta_sweep": sweep,
        "num_query": len(dataset.query),
        "num_gallery": len(dataset.gallery),
    }
    log.info(
        "epoch %d: global mAP %.1f R1 %.1f | joint mAP %.1f",
        record["epoch"],
        100 * metrics["global"]["mAP"],
        100 * metrics["global"]["rank1"],
        100 * metrics["joint"]["mAP"],
    )
    write_json(out_path, record)


def evaluate_checkpoints(
    model_paths: Sequence[str],
    data_summary: str,
    settings: Sequence[dict[str, Any]],
    out_paths: Sequence[str],
) -> None:
    """``evaluate_checkpoint`` for several checkpoints of one experiment in one process: the
    evaluated epochs of a span (``epochs_per_job``), each with its own settings and file."""
    for model_path, epoch_settings, out_path in zip(model_paths, settings, out_paths, strict=True):
        evaluate_checkpoint(model_path, data_summary, epoch_settings, out_path)


def _ids(records) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray([r.pid for r in records], dtype=np.int64),
        np.asarray([r.camid for r in records], dtype=np.int64),
    )


def draw_rank_lists(
    model_path: str, data_summary: str, settings: dict[str, Any], out_png: str, num_queries: int = 6
) -> None:
    """Top-10 gallery images of a few queries with the global feature, matches marked."""
    from secret_core.evaluation import draw_rank_list, feature_distance

    dataset = open_dataset(data_summary)
    use_teacher = settings["mean_teacher"]
    qf, gf = split_features(
        model_path, data_summary, dataset, ("query", "gallery"), settings, use_teacher
    )
    distmat = feature_distance(qf, gf, "global")
    draw_rank_list(
        dataset.query,
        dataset.gallery,
        distmat,
        out_png,
        top_k=10,
        num_queries=num_queries,
        seed=settings["run"]["seed"],
    )
