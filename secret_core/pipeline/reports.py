"""Report stages: the paper's tables from experiment summaries."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from secret_core.provenance import describe
from secret_core.reporting.ranking import TRAINED, ranking_feature
from secret_core.reporting.resolution import paired_gap, query_aps
from secret_core.reporting.tables import (
    TABLE_ROWS,
    TABLE_SETTING,
    TABLE_TITLES,
    TableRow,
    build_table,
    load_summaries,
    write_table,
)


def joint_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str:
    """Which eta the Joint rows used (paper Eq. 3), read from the evaluations themselves.

    The paper's Joint rows take eta from its Figure 6 sweep over the test set; ours use the
    configured ``evaluation.eta``, fixed in advance, and the table must say which.
    """
    etas = sorted(
        {
            float(s["final_eta"])
            for runs in summaries.values()
            for s in runs
            if s.get("final_eta") is not None
        }
    )
    if not etas:
        return "Joint rows: d = d_global + eta (d_top + d_bottom) (paper Eq. 3); eta not recorded."
    shown = ", ".join(f"{e:g}" for e in etas)
    return (
        f"Joint rows: d = d_global + eta (d_top + d_bottom) (paper Eq. 3) with eta = {shown} "
        "(config evaluation.eta, fixed in advance; not chosen on the test set)."
    )


# Below this pairwise precision of the first clusters, pseudo labels hold too little identity
# to train from (a random network's clusters on the demo's domains: 1-3%).
UNINFORMATIVE_PRECISION = 0.2


def start_clusters_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str | None:
    """How much identity the first epoch's clusters hold, read from the experiments.

    Table 2 starts from the configured init, not from a source model. A network without
    ImageNet weights (the demo's ``model.init: none``) clusters by colour: the table must say
    so rather than leave rows at the initial network's level unexplained.
    """
    values = [
        float(row["trained_pair_precision"])
        for runs in summaries.values()
        for s in runs
        for row in s.get("epochs", [])
        if row.get("epoch") == 1 and row.get("trained_pair_precision") is not None
    ]
    if not values:
        return None
    mean = sum(values) / len(values)
    note = (
        f"Epoch 1's training labels join pairs of one identity with precision {100 * mean:.1f}% "
        f"({100 * min(values):.1f}-{100 * max(values):.1f}% over {len(values)} experiments)."
    )
    if mean < UNINFORMATIVE_PRECISION:
        note += (
            " Pseudo labels from this initial network carry little identity, so the fully "
            "unsupervised rows can gain little over it; the paper starts from ImageNet "
            "weights (model.init: imagenet)."
        )
    return note


# CSV columns that say what made a table (the same in every row).
PROVENANCE_COLUMNS = ("package_version", "git_commit", "config", "config_hash")

# The authors' adaptation budget: 80 epochs of 400 iterations (the paper; their scripts: 50).
AUTHORS_ITERATIONS = 80 * 400


def mean_teacher_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str | None:
    """Where SECRET(MT) ends below SECRET, say so with the gap and the runs' length, read
    from the runs.

    The paper's mean teacher gains 1-7 mAP over the plain student after 32,000 iterations.
    That needs a teacher that is a better model than its student. On the demo's runs it never
    is (12 or 36 epochs, any window, with or without the soft terms), and the shortfall is
    partly the sampler's random stream (docs/DEMO_EFFECT.md, section 26). A table whose MT
    rows fall below says so, rather than leave the reader to suspect the teacher's code.
    """
    below, iterations = [], set()
    for (task, variant), runs in sorted(summaries.items()):
        plain = summaries.get((task, "secret"))
        if variant != "secret_mt" or not plain:
            continue
        mt_map = sum(_final_map(r) for r in runs) / len(runs)
        plain_map = sum(_final_map(r) for r in plain) / len(plain)
        gap = round(100 * (mt_map - plain_map), 1)  # as printed: a -0.0 is a tie, not below
        if gap < 0:
            below.append(f"{task} ({gap:+.1f})")
            iterations |= {
                sum(int(row.get("train_iterations") or 0) for row in r.get("epochs", []))
                for r in runs
            }
    if not below:
        return None
    length = "/".join(f"{n:,}" for n in sorted(iterations))
    return (
        f"SECRET(MT) ends below SECRET on {', '.join(below)} mAP after {length} training "
        f"iterations per run (the authors': {AUTHORS_ITERATIONS:,}). Its teacher averages the "
        "student's recent weights (adapt.momentum) and gains only where that average is a "
        "better model than the student; on the demo's runs it scores like its own student, "
        "and a gap under ~0.5 is within what the random stream alone moves "
        "(docs/DEMO_EFFECT.md, section 26)."
    )


# Variants whose training sets the UDA tables compare, in the order the note names them.
TRAINING_SET_VARIANTS = {
    "baseline": "Baseline",
    "naive_secret": "naive SECRET",
    "secret": "SECRET",
}


def training_set_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str | None:
    """How much of the target each method trains on, at epoch 1 and at the final epoch.

    SECRET fine-tunes only the images that keep a label in all three refined spaces (the
    authors' code). Where the start model's three spaces disagree (a weak source model, a
    network trained from scratch), that is a small part of the target and SECRET can end
    below Baseline, which trains nearly everything (docs/DEMO_EFFECT.md, sections 12-14).
    A reader of the table needs that number beside the mAP, and it comes from the runs.
    """
    parts = []
    for task in dict.fromkeys(task for task, _ in sorted(summaries)):
        shares = []
        for variant, label in TRAINING_SET_VARIANTS.items():
            first, last = [], []
            for run in summaries.get((task, variant), []):
                trained = _trained_shares(run)
                if trained:
                    first.append(trained[0])
                    last.append(trained[-1])
            if first:
                shares.append(
                    f"{label} {100 * sum(first) / len(first):.0f}% → "
                    f"{100 * sum(last) / len(last):.0f}%"
                )
        if shares:
            parts.append(f"{task}: {', '.join(shares)}")
    if not parts:
        return None
    return (
        "Share of the target's training images that train (a label in every branch the "
        f"method uses), epoch 1 → final epoch, mean over seeds: {'; '.join(parts)}. SECRET "
        "trains an image only where the three feature spaces agree on it; from a start whose "
        "spaces disagree it leaves most of the target out (docs/DEMO_EFFECT.md, sections "
        "12-14)."
    )


# SECRET's three feature spaces, in the order the start-spaces note names them.
SPACES = ("global", "top", "bottom")


def start_spaces_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str | None:
    """The source model's mAP in each of SECRET's three spaces before adaptation (epoch 0).

    SECRET keeps a label only where every space agrees, so the weakest space decides how much
    of the target trains: at a weak start, refining against a local space far below the
    other two cost SECRET more than it gained, and refining against the other local space
    alone (SECRET-T or SECRET-B) led (docs/DEMO_EFFECT.md, section 22). The paper's spaces
    are within a few points of each other (its Table 4); a reader of Tables 3 and 4 needs to
    see whether the runs' spaces were, and the numbers come from the runs.
    """
    parts = []
    for (task, variant), runs in sorted(summaries.items()):
        if variant != "secret":
            continue
        starts = [_start_maps(r) for r in runs]
        starts = [m for m in starts if m is not None]
        if starts:
            means = [sum(m[i] for m in starts) / len(starts) for i in range(len(SPACES))]
            parts.append(f"{task} {' / '.join(f'{100 * v:.1f}' for v in means)}")
    if not parts:
        return None
    return (
        "The source model's mAP in SECRET's spaces before adaptation (epoch 0, mean over "
        f"seeds), {' / '.join(SPACES)}: {'; '.join(parts)}. SECRET trains an image only where "
        "all three spaces agree on it, so a local space far below the others discards what "
        "they find, and SECRET-T or SECRET-B can then lead SECRET (docs/DEMO_EFFECT.md, "
        "section 22)."
    )


def _start_maps(summary: Mapping) -> tuple[float, ...] | None:
    """Epoch 0's mAP of each space, or None when the run did not evaluate all three."""
    for row in summary.get("epochs", []):
        if int(row.get("epoch", -1)) == 0:
            values = [row.get(f"{space}_mAP") for space in SPACES]
            if all(v is not None for v in values):
                return tuple(float(v) for v in values)
    return None


def _trained_shares(summary: Mapping) -> list[float]:
    """Per training epoch, in order: trained samples / target training images."""
    shares = []
    for row in sorted(summary.get("epochs", []), key=lambda r: int(r["epoch"])):
        trained, total = row.get("trained_samples"), row.get("num_samples")
        if int(row["epoch"]) >= 1 and trained is not None and total:
            shares.append(float(trained) / float(total))
    return shares


def concatenation_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str | None:
    """Say which feature naive SECRET's row ranks with, and what its global feature gives.

    Trained as the concatenation (``loss_on: concat``, the paper's description), its row
    reports that concatenation; every other row ranks with the global feature.
    """
    parts = []
    for (task, variant), runs in sorted(summaries.items()):
        if variant != "naive_secret":
            continue
        concat = [r for r in runs if ranking_feature(r, TRAINED) == "concat"]
        if concat:
            mean = sum(_final_map(r) for r in concat) / len(concat)
            parts.append(f"{task} {100 * mean:.1f}")
    if not parts:
        return None
    return (
        "naive SECRET clusters, trains and ranks with the concatenation of the three features "
        "(variant key loss_on: concat; the paper: 'clustering and fine-tuning work on the "
        "concatenation ... others are same as Baseline'). Its global feature alone gives "
        f"{', '.join(parts)} mAP."
    )


def label_headroom_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str | None:
    """How far perfect labels would take Baseline, beside how far SECRET's take it.

    SUP fine-tunes every branch on the target's true ids with the same budget, so SUP minus
    Baseline is all that better pseudo labels can give on a task. Where it is a point or
    two, the rows of a refinement ablation differ by less than the seeds' spread and no
    order can show (docs/DEMO_EFFECT.md, section 24); a reader needs that number, read from
    the runs, beside the ordering.
    """
    parts = []
    for task in dict.fromkeys(task for task, _ in sorted(summaries)):
        means = {
            variant: sum(_final_map(r) for r in runs) / len(runs)
            for variant in ("baseline", "secret", "sup")
            if (runs := summaries.get((task, variant)))
        }
        if "baseline" not in means or "sup" not in means:
            continue
        headroom = means["sup"] - means["baseline"]
        part = f"{task} {100 * headroom:+.1f}"
        if "secret" in means:
            part += f" (SECRET {100 * (means['secret'] - means['baseline']):+.1f})"
        parts.append(part)
    if not parts:
        return None
    return (
        "SUP (not in the paper) trains every branch on the target's true ids with the same "
        "budget: SUP minus Baseline is what perfect pseudo labels could add (SECRET minus "
        f"Baseline in brackets), mean over seeds: "
        f"{'; '.join(parts)}. Where it is a point or two, the refinement rows cannot order "
        "beyond the seeds' spread (docs/DEMO_EFFECT.md, section 24)."
    )


def query_noise_note(summaries: Mapping[tuple[str, str], Sequence[Mapping]]) -> str | None:
    """How much of each row's gap to Baseline the test set's queries alone can move.

    With the trained models fixed, the paired gap of two rows is a mean over queries and has
    a standard error over them (``reporting.resolution``); the seeds' std in the table says
    nothing about it. A gap within about twice that error is not resolved by this test set,
    and a reader judging an ordering needs the number beside the table. Seeds are paired by
    their seed; runs evaluated before eval.json kept per-query AP are left out.
    """
    parts = []
    for task in dict.fromkeys(task for task, _ in sorted(summaries)):
        base = _aps_by_seed(summaries.get((task, "baseline"), []))
        if not base:
            continue
        gaps = {}
        for (other_task, variant), runs in sorted(summaries.items()):
            if other_task != task or variant == "baseline":
                continue
            aps = _aps_by_seed(runs)
            seeds = sorted(set(aps) & set(base))
            if seeds:
                gaps[variant] = paired_gap([aps[s] for s in seeds], [base[s] for s in seeds])
        if not gaps:
            continue
        errors = [se for _, se, _ in gaps.values()]
        part = (
            f"{task} ({next(iter(gaps.values()))[2]} queries) {min(errors):.1f}-{max(errors):.1f}"
        )
        if "secret" in gaps:
            gap, se, _ = gaps["secret"]
            part += f", SECRET - Baseline {gap:+.1f} ± {se:.1f}"
        parts.append(part)
    if not parts:
        return None
    return (
        "Standard error of each row's gap to Baseline from the test queries alone (the "
        f"trained models fixed): {'; '.join(parts)}. A gap within twice its error is not "
        "resolved by this test set, however many seeds (docs/DEMO_EFFECT.md, section 25)."
    )


def _aps_by_seed(runs: Sequence[Mapping]) -> dict[int, np.ndarray]:
    """Seed -> per-query AP of the feature each run ranks with; {} if any run lacks them."""
    out = {}
    for run in runs:
        aps = query_aps(run, TRAINED)
        if aps is None:
            return {}
        out[int(run["run"]["seed"])] = aps
    return out


def _final_map(summary: Mapping) -> float:
    return float(summary["final"]["global"]["mAP"])


# The paper's tasks in words, for notes about synthetic stand-ins ("duke2market stands in for
# duke2market" tells a reader nothing).
PAPER_TASK_WORDS = {
    "duke2market": "DukeMTMC-reID → Market-1501",
    "market2duke": "Market-1501 → DukeMTMC-reID",
    "market2msmt": "Market-1501 → MSMT17",
}


def stand_in_note(stands_in_for: Mapping[str, str | None]) -> str | None:
    """The table note naming the real task each synthetic task stands in for, or None.

    Known paper tasks are spelled out; a free-text entry is kept unless it only repeats the
    task's own name (which says nothing).
    """
    pairs = []
    for task, real in stands_in_for.items():
        if not real:
            continue
        words = PAPER_TASK_WORDS.get(real, real)
        if words == task:
            continue
        pairs.append(f"{task} is a synthetic stand-in for {words}")
    if not pairs:
        return None
    return f"Synthetic stand-ins ({'; '.join(pairs)}): paper values are not comparable and are not shown."


def _has_row(name: str, test: Callable[[TableRow], bool]) -> bool:
    return any(test(row) for row in TABLE_ROWS[name])


# The notes a table takes from its runs, in print order: (does table ``name`` need it, the
# note from the runs' summaries, or None when the runs have nothing to say).
TABLE_NOTES: list[tuple[Callable[[str], bool], Callable[..., str | None]]] = [
    (lambda name: _has_row(name, lambda row: row.feature == "joint"), joint_note),
    (lambda name: _has_row(name, lambda row: row.variant == "naive_secret"), concatenation_note),
    (lambda name: True, mean_teacher_note),
    (lambda name: _has_row(name, lambda row: row.variant == "sup"), label_headroom_note),
    (lambda name: _has_row(name, lambda row: row.variant == "baseline"), query_noise_note),
    (lambda name: TABLE_SETTING[name] == "uda", training_set_note),
    (
        lambda name: (
            TABLE_SETTING[name] == "uda"
            and _has_row(
                name,
                lambda row: (
                    row.variant in ("secret_t", "secret_b") or row.feature in ("top", "bottom")
                ),
            )
        ),
        start_spaces_note,
    ),
    (lambda name: TABLE_SETTING[name] == "usl", start_clusters_note),
]


def make_table(
    summary_paths: Sequence[str],
    settings: dict[str, Any],
    csv_path: str,
    md_path: str,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Write one paper table; ``provenance`` goes into every CSV row and the Markdown notes."""
    name = settings["name"]
    summaries = load_summaries(summary_paths)
    table = build_table(name, summaries, settings["tasks"], settings["paper_tasks"])
    notes = ["Measured at the final epoch."]
    for row in TABLE_ROWS[name]:
        if row.epoch == "start":
            notes[0] += f" '{row.label}' is the starting model (epoch 0)."
    notes += [
        note
        for applies, make_note in TABLE_NOTES
        if applies(name) and (note := make_note(summaries)) is not None
    ]
    stand_ins = stand_in_note(settings.get("stands_in_for", {}))
    if stand_ins:
        notes.append(stand_ins)
    if provenance is not None:
        # Text columns (None, e.g. no git commit, is written empty), repeated on every row
        # so a row copied out of the CSV still says what made it.
        columns = {
            key: pd.Series([provenance.get(key)] * len(table), dtype=object)
            for key in PROVENANCE_COLUMNS
        }
        table = table.assign(**columns)
        notes.append(describe(provenance))
    write_table(table, Path(csv_path), Path(md_path), TABLE_TITLES[name], notes)


def make_figure(
    summary_paths: Sequence[str], settings: dict[str, Any], png_path: str, pdf_path: str
) -> None:
    """Draw one of the paper's figures (``reporting.figure_specs``) from its summaries."""
    from secret_core.reporting import figures
    from secret_core.reporting.figure_specs import FIGURE_SPECS
    from secret_core.workflow.outputs import k_variant

    name, task = settings["name"], settings.get("task", "")
    spec = FIGURE_SPECS[name]
    grouped = load_summaries(summary_paths)
    title = spec.title.format(task=task)
    if spec.kind == "curves":
        groups = {label: grouped.get((task, variant), []) for label, variant in spec.series}
        fig = figures.curves_figure(groups, list(spec.panels), title)
    elif spec.sweep == "eta":
        variant = spec.series[0][1]
        series = {t: figures.eta_series(runs) for (t, v), runs in grouped.items() if v == variant}
        fig = figures.sweep_figure(series, "eta", title)
    else:
        tasks = list(dict.fromkeys(t for t, _ in grouped))
        series = {
            t: figures.k_series(
                {k: grouped.get((t, k_variant(k, settings["k"])), []) for k in settings["k_sweep"]}
            )
            for t in tasks
        }
        fig = figures.sweep_figure(series, "K", title)
    figures.save_figure(fig, png_path, pdf_path)
