"""Pseudo-label quality: the paper's accuracy and consistency, plus NMI and ARI.

Accuracy of a label set (paper, "Consistency Analysis"): each cluster takes its dominant
ground-truth id; its members with that id are clean; a cluster's accuracy is clean / all; the
set's accuracy is the mean over clusters. Outliers (-1) belong to no cluster, so they are
left out and counted apart. Consistency of two label sets is the mean of the accuracy of each
measured with the other as the truth; it is evaluated on the samples labelled in both sets,
since a sample one space discarded says nothing about agreement (and an outlier is not a
cluster that could be dominant).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from secret_core.errors import SecretError
from secret_core.refinement.labels import as_labels, compact, pair_counts


def _truth(gt: np.ndarray, n: int) -> np.ndarray:
    """Ground-truth ids: any integers (no value is special), one per sample."""
    arr = np.asarray(gt)
    if arr.ndim != 1 or arr.size != n:
        raise SecretError(f"ground truth must be 1-D with {n} ids, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise SecretError(f"ground-truth ids must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


class _Dominance(NamedTuple):
    """Per-sample cluster and truth indices, with each cluster's dominant-id count."""

    cluster: np.ndarray  # compact cluster index of each sample
    truth_id: np.ndarray  # compact ground-truth index of each sample
    group: np.ndarray  # size of each sample's (cluster, truth id) group
    dominant: np.ndarray  # per cluster: the largest group's size


def _dominance(pred: np.ndarray, truth: np.ndarray) -> _Dominance:
    """Count each cluster's dominant id once, for the accuracy and the clean marks alike.

    ``pred`` holds cluster ids >= 0 only and must not be empty.
    """
    cluster, n_clusters = compact(pred)
    _, truth_id = np.unique(truth, return_inverse=True)
    group = pair_counts(cluster, truth_id, n_clusters, int(truth_id.max()) + 1)
    dominant = np.zeros(n_clusters, dtype=np.int64)
    np.maximum.at(dominant, cluster, group)
    return _Dominance(cluster, truth_id, group, dominant)


def cluster_accuracies(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Dominant-id share of each cluster of ``pred`` (ids >= 0 only, any ``truth`` ids)."""
    if pred.size == 0:
        return np.zeros(0)
    found = _dominance(pred, truth)
    return found.dominant / np.bincount(found.cluster, minlength=found.dominant.size)


def clean_members(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Whether each sample is clean: clustered, with its cluster's dominant ground-truth id.

    Why: the paper's accuracy counts these samples; marking them one by one shows which
    ones a refinement step removes. On a tie the smallest tied id is the dominant one, so a
    cluster's clean count is its dominant count. Outliers (-1) are never clean.
    """
    pred = as_labels(pred, "predicted labels")
    truth = _truth(gt, pred.size)
    clean = np.zeros(pred.size, dtype=bool)
    labelled = np.flatnonzero(pred >= 0)
    if labelled.size == 0:
        return clean
    cluster, truth_id, group, dominant = _dominance(pred[labelled], truth[labelled])
    candidate = group == dominant[cluster]
    chosen = np.full(dominant.size, np.iinfo(np.int64).max)
    np.minimum.at(chosen, cluster[candidate], truth_id[candidate])
    clean[labelled] = truth_id == chosen[cluster]
    return clean


def label_accuracy(pred: np.ndarray, gt: np.ndarray) -> dict[str, float | int]:
    """The paper's accuracy of ``pred`` against ``gt``, with the counts behind it.

    Keys: ``accuracy`` (mean cluster accuracy; NaN when there is no cluster),
    ``num_clusters``, ``num_outliers`` (samples with -1, excluded) and ``num_labelled``.
    """
    pred = as_labels(pred, "predicted labels")
    truth = _truth(gt, pred.size)
    labelled = pred >= 0
    accuracies = cluster_accuracies(pred[labelled], truth[labelled])
    return {
        "accuracy": float(accuracies.mean()) if accuracies.size else float("nan"),
        "num_clusters": int(accuracies.size),
        "num_outliers": int(pred.size - labelled.sum()),
        "num_labelled": int(labelled.sum()),
    }


def consistency(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of accuracy(a with b as truth) and accuracy(b with a as truth).

    Only samples labelled in both sets take part; NaN when there is none.
    """
    a = as_labels(a, "first label set")
    b = as_labels(b, "second label set")
    if a.size != b.size:
        raise SecretError(f"label sets must have equal length, got {a.size} and {b.size}")
    both = (a >= 0) & (b >= 0)
    if not both.any():
        return float("nan")
    a, b = a[both], b[both]
    return float((cluster_accuracies(a, b).mean() + cluster_accuracies(b, a).mean()) / 2)


def overall_consistency(label_sets: Sequence[np.ndarray]) -> float:
    """Mean consistency over all pairs of label sets (the paper's overall consistency).

    Pairs without a commonly labelled sample (NaN) are skipped; NaN if every pair is.
    """
    if len(label_sets) < 2:
        raise SecretError(f"overall consistency needs at least 2 label sets, got {len(label_sets)}")
    values = np.array([consistency(x, y) for x, y in itertools.combinations(label_sets, 2)])
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


def label_stats(labels: np.ndarray, gt: np.ndarray | None = None) -> dict[str, float | int | None]:
    """Clusters, outliers and kept samples; with ground truth also accuracy, NMI and ARI.

    NMI and ARI (scikit-learn) are computed over the labelled samples, like the accuracy.
    Values are plain Python numbers with None for undefined ones, so the dict is JSON-ready.
    """
    labels = as_labels(labels)
    labelled = labels >= 0
    stats: dict[str, float | int | None] = {
        "num_clusters": int(np.unique(labels[labelled]).size),
        "num_outliers": int(labels.size - labelled.sum()),
        "num_labelled": int(labelled.sum()),
    }
    if gt is None:
        return stats
    truth = _truth(gt, labels.size)
    accuracy = label_accuracy(labels, truth)["accuracy"]
    stats["accuracy"] = None if np.isnan(accuracy) else float(accuracy)
    if labelled.sum() >= 2:
        # Imported here: scikit-learn costs ~1.3 s of start-up, and the fine-tune job imports
        # this package (for the label helpers) without ever scoring labels.
        from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

        stats["nmi"] = float(normalized_mutual_info_score(truth[labelled], labels[labelled]))
        stats["ari"] = float(adjusted_rand_score(truth[labelled], labels[labelled]))
    else:
        stats["nmi"] = stats["ari"] = None
    return stats


def _pairs_within(*keys: np.ndarray) -> int:
    """Number of unordered sample pairs that agree on every key (sum of C(n, 2) per group)."""
    if keys[0].size < 2:
        return 0
    _, counts = np.unique(np.stack(keys, axis=1), axis=0, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pair_quality(
    labels: np.ndarray, gt: np.ndarray, cameras: np.ndarray
) -> dict[str, float | int | None]:
    """Pairwise precision and recall of a label set, overall and across cameras.

    Why: the paper's accuracy (dominant-id share per cluster) rewards a label set that cuts
    every identity into small pure pieces, and retrieval is scored on cross-camera matches
    only. On tracklet-rich targets the clusters are single-camera pieces of an identity:
    accuracy 0.98 while the training set holds a seventh of the identity's cross-camera
    pairs, and the classes push an identity's cameras apart. These counts say so.

    Pairs are counted over all N samples (outliers, -1, pair with nothing), so recall is the
    share of the split's same-identity pairs that the labels join:
    ``pair_precision`` = same-label pairs with one identity / same-label pairs;
    ``pair_recall`` = those pairs / same-identity pairs;
    ``cross_camera_recall`` = the same for pairs from two cameras (what a query needs);
    ``cross_camera_share`` = same-label pairs from two cameras / same-label pairs.
    Computed from group counts, never an N x N matrix.
    """
    labels = as_labels(labels)
    truth = _truth(gt, labels.size)
    cams = _truth(cameras, labels.size)
    inside = labels >= 0
    lab, ids, cam = labels[inside], truth[inside], cams[inside]
    joined = _pairs_within(lab)
    correct = _pairs_within(lab, ids)
    correct_same_cam = _pairs_within(lab, ids, cam)
    joined_same_cam = _pairs_within(lab, cam)
    positives = _pairs_within(truth)
    cross_positives = positives - _pairs_within(truth, cams)

    def ratio(num: int, den: int) -> float | None:
        return float(num / den) if den else None

    return {
        "pair_precision": ratio(correct, joined),
        "pair_recall": ratio(correct, positives),
        "cross_camera_recall": ratio(correct - correct_same_cam, cross_positives),
        "cross_camera_share": ratio(joined - joined_same_cam, joined),
    }
