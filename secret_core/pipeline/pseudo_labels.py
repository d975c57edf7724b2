"""Pseudo-label stages: cluster each feature space, then refine the spaces' labels.

Two stages use this module. The start model's first-epoch clusterings are shared by every
variant (``cluster_space``, one job per space); every epoch of an experiment then runs
``label_epoch``, which clusters the spaces its variant uses (from epoch 2; epoch 1 reads the
shared ones) and refines them in the same job. Clustering and refinement are one job
because each alone is a fraction of a second at demo size beside a ~2 s interpreter and
scikit-learn start-up, and because nothing but the refinement ever reads an epoch's
per-space labels.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from secret_core import BRANCHES, MAX_DISTANCE
from secret_core.clustering import (
    cluster,
    clustering_distance,
    reciprocal_encoding,
    rho_for_size,
)
from secret_core.errors import SecretError
from secret_core.evaluation.distance import concatenated
from secret_core.io import load_arrays, read_json, save_arrays, write_json
from secret_core.pipeline.datasets import open_dataset, train_cameras, train_ground_truth
from secret_core.pipeline.runner import get_logger
from secret_core.refinement import label_stats, mutual_refine, overall_consistency
from secret_core.refinement.labels import reindex
from secret_core.refinement.quality import label_accuracy, pair_quality


def space_features(features: dict[str, np.ndarray], space: str) -> np.ndarray:
    """The features clustered for ``space``; ``concat`` joins the three (naive SECRET), as
    its evaluation does (``evaluation.distance.concatenated``)."""
    if space != "concat":
        return np.ascontiguousarray(features[space], dtype=np.float32)
    return concatenated(features)


def cluster_space(
    features_path: str,
    eps_from: str | Sequence[str],
    settings: dict[str, Any],
    labels_path: str,
    stats_path: str,
) -> None:
    """Jaccard distance + DBSCAN on the one space ``settings["space"]``, to files.

    ``eps_from``: the stats file of the first epoch's clustering of this space (empty at
    the first epoch), whose eps later epochs reuse (see ``cluster_features``).
    """
    if isinstance(eps_from, str):  # Snakemake passes one named input file as a string
        eps_from = [eps_from]
    reference = read_json(eps_from[0]) if eps_from else None
    feats = space_features(load_arrays(features_path), settings["space"])
    labels, stats = cluster_features(feats, settings, reference)
    _save_npy(labels_path, labels)
    write_json(stats_path, stats)


def cluster_features(
    feats: np.ndarray, settings: dict[str, Any], reference: dict[str, Any] | None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Jaccard distance + DBSCAN on one feature space: the labels (-1: outlier) and stats.

    With ``eps: auto`` the eps is chosen from the distances at the first target epoch and
    read back from that epoch's stats (``reference``) afterwards, so it is part of the
    run's state. The matrix stores only the pairs eps and DBSCAN read
    (``clustering.cut``), and ``adapt.max_distance`` caps it further: the eps rule raises
    (one line naming adapt.max_distance and adapt.rho) when the stored pairs cannot give
    the rho share, instead of taking the unstored pairs as 1.
    """
    log = get_logger()
    space = settings["space"]
    start = time.perf_counter()
    # the workflow always passes it (workflow.epochs.adapt_settings); the same default otherwise
    max_distance = float(settings.get("max_distance", MAX_DISTANCE))
    rho = None
    if settings["eps"] != "auto":
        eps, eps_source = float(settings["eps"]), "config"
    elif reference is not None:
        eps, eps_source = float(reference["eps"]), "epoch 1"
    else:
        eps, eps_source = None, "chosen"
        rho = eps_rho(settings, feats.shape[0])
    if eps is not None and eps >= max_distance:
        raise SecretError(
            f"adapt.eps {eps:.3f} must be below adapt.max_distance {max_distance}: pairs "
            f"beyond it are not stored; raise adapt.max_distance (at most 1) or lower adapt.eps"
        )
    encoding = reciprocal_encoding(
        feats, k1=settings["k1"], k2=settings["k2"], device=settings["device"]
    )
    dist, eps, cut = clustering_distance(encoding, eps=eps, rho=rho, max_distance=max_distance)
    del encoding
    t_dist = time.perf_counter() - start
    labels = cluster(feats, eps, min_samples=settings["min_samples"], distance=dist)
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    stats = {
        "space": space,
        "epoch": settings["run"]["epoch"],
        "eps": eps,
        "eps_source": eps_source,
        "rho": rho,
        "num_clusters": n_clusters,
        "num_outliers": int((labels < 0).sum()),
        "num_samples": int(labels.size),
        "stored_pairs": int(dist.nnz),
        "stored_below": cut,
        "jaccard_seconds": t_dist,
        "seconds": time.perf_counter() - start,
    }
    log.info(
        "%s: eps %.4f (%s), %d clusters, %d outliers",
        space,
        eps,
        eps_source,
        n_clusters,
        stats["num_outliers"],
    )
    return np.asarray(labels, dtype=np.int64), stats


def eps_rho(settings: dict[str, Any], num_samples: int) -> float:
    """The rho of ``choose_eps``: ``adapt.eps_neighbours / (N - 1)`` when that is set (the
    rule that transfers across target sizes, see ``rho_for_size``), else ``adapt.rho``."""
    neighbours = settings.get("eps_neighbours")
    if neighbours is not None:
        return rho_for_size(num_samples, float(neighbours))
    return float(settings["rho"])


def _save_npy(path: str, array: np.ndarray) -> None:
    from secret_core.io import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array)


def label_epoch(
    spaces: Sequence[str],
    first_clusters: Sequence[str],
    data_summary: str,
    settings: dict[str, Any],
    out_labels: str,
    out_stats: str,
    features_path: str | None = None,
    label_paths: Sequence[str] = (),
) -> None:
    """One epoch's training labels: cluster the variant's spaces, refine, write both.

    ``first_clusters``: the stats of the first epoch's (shared) clustering of each space, in
    ``spaces`` order. At the first epoch the spaces are already clustered (``label_paths``,
    the shared clusterings); later epochs cluster ``features_path`` here, each space with
    ``settings["cluster"]`` and the first epoch's eps. ``settings["refine"]`` says how the
    variant turns the clusterings into per-branch labels.
    """
    if (features_path is None) == (not label_paths):
        raise SecretError("internal: label_epoch needs either features or clustered labels")
    references = [read_json(path) for path in first_clusters]
    if label_paths:
        clustered = {s: np.load(p) for s, p in zip(spaces, label_paths, strict=True)}
        cluster_stats = dict(zip(spaces, references, strict=True))
    else:
        features = load_arrays(features_path)
        clustered, cluster_stats = {}, {}
        for space, reference in zip(spaces, references, strict=True):
            space_settings = {**settings["cluster"], "space": space}
            feats = space_features(features, space)
            clustered[space], cluster_stats[space] = cluster_features(
                feats, space_settings, reference
            )
    refine_labels(clustered, data_summary, settings["refine"], out_labels, out_stats, cluster_stats)


def refine_labels(
    clustered: dict[str, np.ndarray],
    data_summary: str,
    settings: dict[str, Any],
    out_labels: str,
    out_stats: str,
    cluster_stats: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Turn the clustered spaces into each branch's training labels for this epoch, and
    write them with their quality (and ``cluster_stats``, under ``clusters``)."""
    log = get_logger()
    variant = settings["variant"]
    dataset = open_dataset(data_summary)
    gt, cams = train_ground_truth(dataset), train_cameras(dataset)
    start = time.perf_counter()
    refined = branch_labels(clustered, variant, settings["k"], settings["denominator"], gt)
    seconds = time.perf_counter() - start
    stats: dict[str, Any] = {
        "epoch": settings["run"]["epoch"],
        "refine_seconds": seconds,
        "clusters": cluster_stats or {},
        "clustered": {},
        "refined": {},
    }
    for space, labels in clustered.items():
        stats["clustered"][space] = label_stats(labels, gt) | pair_quality(labels, gt, cams)
    for branch in variant["branches"]:
        labels = refined[branch]
        stats["refined"][branch] = label_stats(labels, gt) | pair_quality(labels, gt, cams)
    separate = [clustered[b] for b in BRANCHES if b in clustered]
    stats["consistency"] = overall_consistency(separate) if len(separate) > 1 else None
    refined_sets = [refined[b] for b in variant["branches"]]
    stats["consistency_refined"] = (
        overall_consistency(refined_sets) if len(refined_sets) > 1 else None
    )
    keep = np.ones(len(gt), dtype=bool)
    for branch in variant["branches"]:
        keep &= refined[branch] >= 0
    stats["trained_samples"] = int(keep.sum())
    stats.update(training_set_stats(refined[variant["branches"][0]], keep, gt, cams))
    log.info(
        "refined: %d of %d samples keep a label in every branch; consistency %s",
        stats["trained_samples"],
        len(gt),
        stats["consistency"],
    )
    save_arrays(out_labels, **refined)
    write_json(out_stats, stats)


def training_set_stats(
    labels: np.ndarray, keep: np.ndarray, gt: np.ndarray, cameras: np.ndarray | None = None
) -> dict[str, float | int | None]:
    """What the epoch really trains on, beyond the per-branch refined accuracy.

    The per-branch accuracy counts every sample that keeps a label in that branch, but only
    the samples labelled in every used branch train (``keep``); the diagnosis of issue 11
    needs the size, the identity coverage and the purity of that set, and the number of true
    identities to read the cluster counts against. ``labels``: the first branch's labels,
    which the PK sampler draws from. With ``cameras``, also the pairwise precision and
    (cross-camera) recall of that set (``refinement.quality.pair_quality``): purity alone
    hides an identity cut into single-camera pieces.
    """
    n = len(gt)
    kept_labels = np.where(keep, labels, -1)
    acc = label_accuracy(kept_labels, gt)["accuracy"] if keep.any() else float("nan")
    pairs = {}
    if cameras is not None:
        quality = pair_quality(kept_labels, gt, cameras)
        pairs = {f"trained_{key}": value for key, value in quality.items()}
    return {
        "num_samples": int(n),
        "true_ids": int(np.unique(gt).size),
        "coverage": float(keep.sum() / n) if n else 0.0,
        "trained_ids": int(np.unique(gt[keep]).size),
        "trained_clusters": int(np.unique(labels[keep]).size),
        "trained_accuracy": None if np.isnan(acc) else float(acc),
        **pairs,
    }


def branch_labels(
    clustered: dict[str, np.ndarray],
    variant: dict[str, Any],
    k: float,
    denominator: str,
    gt: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-branch labels for one epoch, as the variant prescribes (-1: not trained)."""
    n = len(gt)
    out = {b: np.full(n, -1, dtype=np.int64) for b in BRANCHES}
    branches = list(variant["branches"])
    if variant["labels"] == "ground_truth":
        for b in branches:
            out[b] = reindex(gt)
        return out
    if variant["cluster_on"] == "concat":
        for b in branches:
            out[b] = clustered["concat"].astype(np.int64)
        return out
    if variant["refine"] == "none":
        for b in branches:
            out[b] = clustered[b].astype(np.int64)
        return out
    if set(branches) != set(BRANCHES):
        raise SecretError(
            f"variant '{variant.get('label')}': mutual refinement needs branches global, top "
            "and bottom; set refine: none or list all three branches"
        )
    g, t, b = mutual_refine(
        clustered["global"],
        clustered["top"],
        clustered["bottom"],
        k=k,
        use_top=variant.get("use_top", True),
        use_bottom=variant.get("use_bottom", True),
        denominator=denominator,
    )
    out["global"], out["top"], out["bottom"] = g, t, b
    return out
