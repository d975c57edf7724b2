"""Experiment summary: per-epoch history and the start/final evaluations in one file."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secret_core.io import read_json, write_json, write_text


def summarize_experiment(
    paths: Sequence[str],
    settings: dict[str, Any],
    summary_path: str,
    history_path: str,
    curves_path: str | None = None,
    provenance: dict[str, Any] | None = None,
) -> None:
    """Gather eval.json, refine.json and train.json of every epoch of one experiment.

    ``provenance`` (see :mod:`secret_core.provenance`) is stored as is, so a number in the
    summary can be traced to the code and config that made it.
    """
    evals, refines, trains = {}, {}, {}
    for path in paths:
        record = read_json(path)
        kind = Path(path).name
        target = {"eval.json": evals, "refine.json": refines, "train.json": trains}[kind]
        target[int(record["epoch"])] = record
    last = settings["epochs"]
    rows = []
    for epoch in range(0, last + 1):
        row: dict[str, Any] = {"epoch": epoch}
        if epoch in evals:
            for feature, metrics in evals[epoch]["features"].items():
                row[f"{feature}_mAP"] = metrics["mAP"]
                row[f"{feature}_rank1"] = metrics["rank1"]
        if epoch in refines:
            ref = refines[epoch]
            row["consistency"] = ref.get("consistency")
            row["consistency_refined"] = ref.get("consistency_refined")
            row["trained_samples"] = ref.get("trained_samples")
            for key in _TRAINING_SET_KEYS:
                row[key] = ref.get(key)
            for space, stats in ref["clustered"].items():
                row[f"{space}_clusters"] = stats.get("num_clusters")
                row[f"{space}_outliers"] = stats.get("num_outliers")
                row[f"{space}_accuracy"] = stats.get("accuracy")
                row[f"{space}_cross_camera_recall"] = stats.get("cross_camera_recall")
            for branch, stats in ref["refined"].items():
                row[f"{branch}_refined_accuracy"] = stats.get("accuracy")
                row[f"{branch}_refined_labelled"] = stats.get("num_labelled")
        if epoch in trains:  # timings stay in the benchmark files: history must be reproducible
            row.update(_training_columns(trains[epoch]))
        rows.append(row)
    summary = {
        "run": settings["run"],
        "variant": settings["variant"],
        "start": evals[0]["features"],
        "final": evals[last]["features"],
        "final_eta": evals[last].get("eta"),
        "final_eta_sweep": evals[last].get("eta_sweep", {}),
        "epochs": rows,
        "provenance": provenance,
    }
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(history_path, buf.getvalue())
    if curves_path:
        _draw_curves(summary, curves_path)
    write_json(summary_path, summary)


# Columns of refine.json's training-set block (``pseudo_labels.training_set_stats``).
_TRAINING_SET_KEYS = (
    "num_samples",
    "true_ids",
    "coverage",
    "trained_ids",
    "trained_clusters",
    "trained_accuracy",
    "trained_pair_precision",
    "trained_pair_recall",
    "trained_cross_camera_recall",
    "trained_cross_camera_share",
)


def _training_columns(record: dict[str, Any]) -> dict[str, Any]:
    """Loss, iterations, samples drawn and per-branch train accuracy of one epoch.

    ``passes`` (samples drawn / samples that keep a label) and the train accuracy together
    say whether the kept images are memorised (many passes, accuracy near 1) or barely
    seen (under one pass): the two failure modes the diagnosis must tell apart.
    """
    row: dict[str, Any] = {"train_loss": record.get("losses", {}).get("total")}
    row["train_iterations"] = record.get("iterations", 0)
    seen, kept = record.get("samples_seen"), record.get("trained_samples")
    row["samples_seen"] = seen
    row["passes"] = seen / kept if seen is not None and kept else None
    for branch, value in record.get("accuracy", {}).items():
        row[f"{branch}_train_accuracy"] = value
    return row


def _draw_curves(summary: dict[str, Any], curves_path: str) -> None:
    """The experiment's own epoch curves (label quality and retrieval) for the report."""
    from secret_core.reporting import figures

    run = summary["run"]
    label = summary["variant"].get("label", run["variant"])
    panels = [
        ("consistency", "consistency (%)"),
        ("global_refined_accuracy", "pseudo-label accuracy (%)"),
        ("global_mAP", "mAP (%)"),
        ("joint_mAP", "joint mAP (%)"),
    ]
    title = f"{label} on {run['task']} ({run['setting']}, seed {run['seed']})"
    figures.save_figure(figures.curves_figure({label: [summary]}, panels, title), curves_path)
