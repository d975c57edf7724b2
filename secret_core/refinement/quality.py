"""Pseudo-label quality: the paper's accuracy and consistency, plus NMI / ARI.

Accuracy of a label set: each cluster takes its dominant ground-truth id; its members with
that id are clean; a cluster's accuracy is clean / all; the set's accuracy is the mean over
clusters (outliers, -1, excluded and counted apart). Consistency of two label sets is the
mean of the accuracy of each measured with the other as the truth.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def _cluster_purities(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Dominant-id share of each cluster of ``pred`` (both arrays already without -1)."""
    _, pred_idx = np.unique(pred, return_inverse=True)
    _, truth_idx = np.unique(truth, return_inverse=True)
    width = int(truth_idx.max()) + 1
    codes, counts = np.unique(pred_idx * width + truth_idx, return_counts=True)
    clusters = codes // width
    dominant = np.zeros(int(pred_idx.max()) + 1, dtype=np.int64)
    np.maximum.at(dominant, clusters, counts)
    sizes = np.bincount(pred_idx)
    return dominant / sizes


def label_accuracy(pred: np.ndarray, gt: np.ndarray) -> dict[str, float | int]:
    """The paper's pseudo-label accuracy of ``pred`` against ground truth ``gt``."""
    pred = np.asarray(pred, dtype=np.int64)
    gt = np.asarray(gt, dtype=np.int64)
    labelled = pred >= 0
    result: dict[str, float | int] = {
        "num_clusters": int(np.unique(pred[labelled]).size),
        "num_outliers": int((~labelled).sum()),
        "num_labelled": int(labelled.sum()),
    }
    result["accuracy"] = (
        float(_cluster_purities(pred[labelled], gt[labelled]).mean())
        if labelled.any()
        else float("nan")
    )
    return result


def consistency(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of accuracy(a with b as truth) and accuracy(b with a as truth), over the samples
    labelled in both (a sample discarded by either space carries no agreement signal)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    both = (a >= 0) & (b >= 0)
    if not both.any():
        return float("nan")
    a, b = a[both], b[both]
    return float((_cluster_purities(a, b).mean() + _cluster_purities(b, a).mean()) / 2)


def overall_consistency(label_sets: Sequence[np.ndarray]) -> float:
    """Mean consistency over all pairs of feature spaces."""
    values = [consistency(x, y) for x, y in itertools.combinations(label_sets, 2)]
    return float(np.nanmean(values)) if values and not np.all(np.isnan(values)) else float("nan")


def label_stats(labels: np.ndarray, gt: np.ndarray | None = None) -> dict[str, float | int | None]:
    """Clusters, outliers and kept samples; with ground truth also accuracy, NMI and ARI.

    Values are plain Python numbers (NaN as None) so the result can be written as JSON.
    """
    labels = np.asarray(labels, dtype=np.int64)
    labelled = labels >= 0
    stats: dict[str, float | int | None] = {
        "num_clusters": int(np.unique(labels[labelled]).size),
        "num_outliers": int((~labelled).sum()),
        "num_labelled": int(labelled.sum()),
    }
    if gt is not None:
        gt = np.asarray(gt, dtype=np.int64)
        acc = label_accuracy(labels, gt)["accuracy"]
        stats["accuracy"] = None if np.isnan(acc) else float(acc)
        if labelled.sum() > 1:
            stats["nmi"] = float(normalized_mutual_info_score(gt[labelled], labels[labelled]))
            stats["ari"] = float(adjusted_rand_score(gt[labelled], labels[labelled]))
        else:
            stats["nmi"] = stats["ari"] = None
    return stats
