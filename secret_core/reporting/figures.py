"""The paper's figures (1c, 5, 6, 7) from experiment summaries.

Curves are the mean over seeds with a shaded band of one standard deviation when there are
several seeds. Each figure is written as PNG (for the report) and PDF (for papers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from secret_core.io import atomic_path
from secret_core.reporting.ranking import TRAINED, ranking_feature

Summaries = Sequence[Mapping]


def epoch_series(
    runs: Summaries, key: str, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epochs, mean, std) of a per-epoch history column over seeds, skipping empty epochs.

    A global-feature metric column (``global_mAP``, ``global_rank1``) reads the feature the
    run's table row ranks with (``tables.ranking_feature``): naive SECRET's curve is its
    concatenation's, as its Table 3 row is.
    """
    table: dict[int, list[float]] = {}
    for run in runs:
        column = _ranked_column(run, key)
        for row in run["epochs"]:
            value = row.get(column)
            if value is not None and np.isfinite(value):
                table.setdefault(int(row["epoch"]), []).append(float(value) * scale)
    epochs = np.array(sorted(table), dtype=int)
    values = [np.asarray(table[e]) for e in epochs]
    mean = np.array([v.mean() for v in values])
    std = np.array([v.std(ddof=1) if len(v) > 1 else 0.0 for v in values])
    return epochs, mean, std


def _ranked_column(run: Mapping, key: str) -> str:
    if key in ("global_mAP", "global_rank1"):
        return f"{ranking_feature(run, TRAINED)}_{key.split('_', 1)[1]}"
    return key


def _draw(ax, x: np.ndarray, mean: np.ndarray, std: np.ndarray, label: str, **style) -> None:
    (line,) = ax.plot(x, mean, marker="o", markersize=3, label=label, **style)
    if np.any(std > 0):
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)


def save_figure(fig, out_png: str | Path, out_pdf: str | Path | None = None) -> None:
    """Write the figure atomically (PNG, and PDF when asked), then close it."""
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight")
    if out_pdf:
        with atomic_path(out_pdf) as tmp:
            fig.savefig(tmp, bbox_inches="tight")
    plt.close(fig)


def curves_figure(groups: Mapping[str, Summaries], panels: Sequence[tuple[str, str]], title: str):
    """One panel per (history column, y label); one line per group (variant)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 2.9), squeeze=False)
    for ax, (key, ylabel) in zip(axes[0], panels, strict=True):
        for label, runs in groups.items():
            x, mean, std = epoch_series(runs, key, scale=100.0)
            if len(x):
                _draw(ax, x, mean, std, label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def sweep_figure(
    series: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    xlabel: str,
    title: str,
    best_marker: bool = True,
):
    """mAP against a swept value (eta for Figure 6, K for Figure 7), one line per task."""
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    for label, (x, mean, std) in series.items():
        _draw(ax, x, mean, std, label)
        if best_marker and len(x):
            best = int(np.argmax(mean))
            ax.annotate(
                f"{mean[best]:.1f}",
                (x[best], mean[best]),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mAP (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def eta_series(runs: Summaries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint-distance mAP (%) over eta from the final evaluation of each seed."""
    per_eta: dict[float, list[float]] = {}
    for run in runs:
        for eta, metrics in run.get("final_eta_sweep", {}).items():
            per_eta.setdefault(float(eta), []).append(100.0 * float(metrics["mAP"]))
    return _stack(per_eta)


def k_series(runs_by_k: Mapping[float, Summaries]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Final global mAP (%) over the refinement strictness K."""
    per_k = {
        k: [100.0 * float(r["final"]["global"]["mAP"]) for r in runs]
        for k, runs in runs_by_k.items()
        if runs
    }
    return _stack(per_k)


def _stack(values: Mapping[float, list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = np.array(sorted(values), dtype=float)
    mean = np.array([np.mean(values[k]) for k in keys])
    std = np.array([np.std(values[k], ddof=1) if len(values[k]) > 1 else 0.0 for k in keys])
    return keys, mean, std
