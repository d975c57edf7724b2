"""The paper's figures as data: one entry says what a figure draws, from which experiments,
with which title, panels and legend. The workflow (which experiments a figure job reads, the
figure names a target may use) and the drawing code both read this table, so a figure is
described once.

Torch- and matplotlib-free: the Snakefile imports it to build the rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FigureSpec:
    """One paper figure.

    ``kind`` is ``curves`` (per-epoch curves of ``series`` on ``figure_task``, one panel per
    history column) or ``sweep`` (final mAP against ``eta``, read from the evaluation of the
    ``series`` variant, or against ``K``, one SECRET run per swept value), one line per task
    of the table named by ``tasks``.
    """

    title: str
    kind: str
    series: tuple[tuple[str, str], ...] = ()
    panels: tuple[tuple[str, str], ...] = ()
    tasks: str = "figure_task"
    sweep: str = ""


FIGURE_SPECS: dict[str, FigureSpec] = {
    "fig1c": FigureSpec(
        title="Figure 1c: consistency and mAP, supervised (SUP) vs UDA ({task})",
        kind="curves",
        series=(("SUP", "sup"), ("UDA", "secret_mr")),
        panels=(("consistency", "consistency (%)"), ("global_mAP", "mAP (%)")),
    ),
    # the paper draws every curve of Figure 5 with the mean teacher
    "fig5": FigureSpec(
        title="Figure 5: label quality and accuracy over epochs ({task})",
        kind="curves",
        series=(
            ("SECRET(MT)", "secret_mt"),
            ("SECRET-MR(MT)", "secret_mr_mt"),
            ("naive SECRET(MT)", "naive_secret_mt"),
        ),
        panels=(
            ("consistency", "consistency (%)"),
            ("global_refined_accuracy", "pseudo-label accuracy (%)"),
            ("global_mAP", "mAP (%)"),
            ("global_rank1", "Rank-1 (%)"),
        ),
    ),
    "fig6": FigureSpec(
        title="Figure 6: joint-distance mAP vs eta",
        kind="sweep",
        series=(("SECRET", "secret"),),
        tasks="table4",
        sweep="eta",
    ),
    "fig7": FigureSpec(
        title="Figure 7: mAP vs refinement strictness K",
        kind="sweep",
        tasks="table3",
        sweep="K",
    ),
}
FIGURES: tuple[str, ...] = tuple(FIGURE_SPECS)
