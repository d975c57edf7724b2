"""What each paper table and figure reads: its experiments (setting, task, variant, seed),
its input summaries and the params of its job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secret_core.errors import SecretError
from secret_core.reporting.figure_specs import FIGURE_SPECS, FIGURES, FigureSpec
from secret_core.workflow.stage_params import canonical
from secret_core.workflow.variants import resolve_variant


def table_experiments(config: Mapping, name: str) -> list[dict[str, str]]:
    """Experiments (setting, task, variant, seed) that table ``name`` reads."""
    from secret_core.reporting.tables import TABLE_ROWS, TABLE_SETTING

    tasks = table_tasks(config, name)
    setting = TABLE_SETTING[name]
    variants = list(dict.fromkeys(row.variant for row in TABLE_ROWS[name]))
    return [
        {"setting": setting, "task": t, "variant": v, "seed": str(s)}
        for t in tasks
        for v in variants
        for s in config["seeds"]
    ]


def table_inputs(config: Mapping, variants: Mapping, name: str) -> list[str]:
    from secret_core.workflow.layout import experiment_dir

    for exp in table_experiments(config, name):
        resolve_variant(variants, exp["variant"])
    return [f"{experiment_dir(**e)}/summary.json" for e in table_experiments(config, name)]


def table_settings(config: Mapping, variants: Mapping, name: str) -> dict:
    from secret_core.reporting.tables import TABLE_SETTING

    setting = TABLE_SETTING[name]
    tasks = table_tasks(config, name)
    if setting == "uda":
        paper = {t: config["tasks"][t].get("paper_task") for t in tasks}
        stand_ins = {t: config["tasks"][t].get("stands_in_for") for t in tasks}
    else:
        paper = {t: config["datasets"][t].get("paper_dataset") for t in tasks}
        stand_ins = {}
    return canonical(
        {"name": name, "tasks": tasks, "paper_tasks": paper, "stands_in_for": stand_ins}
    )


def table_tasks(config: Mapping, name: str) -> list[str]:
    """Columns of a table: ``table_tasks`` in the config, else every task of its setting."""
    from secret_core.reporting.tables import TABLE_SETTING

    chosen = config.get("table_tasks", {}).get(name)
    if chosen is not None:
        return list(chosen)
    if TABLE_SETTING[name] == "uda":
        return list(config["tasks"])
    return list(config.get("usl_datasets", []))


DEFAULT_K_SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def figure_task(config: Mapping) -> str:
    return config.get("figure_task") or next(iter(config["tasks"]))


def k_sweep(config: Mapping) -> list[float]:
    return [float(k) for k in config.get("k_sweep", DEFAULT_K_SWEEP)]


def k_variant(k: float, default_k: float | None = None) -> str:
    """Variant name of SECRET retrained with strictness K (parsed back by resolve_variant).

    The configured K itself is plain ``secret``, so Figure 7 reuses that trained run."""
    if default_k is not None and abs(k - default_k) < 1e-12:
        return "secret"
    return f"secret_k{k:g}"


def figure_experiments(config: Mapping, name: str) -> list[dict[str, str]]:
    """Experiments (setting, task, variant, seed) that figure ``name`` draws."""
    spec = figure_spec(name)
    if spec.sweep == "K":
        default_k = float(config["adapt"]["k"])
        variants = [k_variant(k, default_k) for k in k_sweep(config)]
    else:
        variants = [variant for _, variant in spec.series]
    if spec.tasks == "figure_task":
        tasks = [figure_task(config)]
    else:
        tasks = table_tasks(config, spec.tasks)
    return [
        {"setting": "uda", "task": t, "variant": v, "seed": str(s)}
        for t in tasks
        for v in variants
        for s in config["seeds"]
    ]


def figure_settings(config: Mapping, name: str) -> dict:
    """The params of one figure job: what that figure reads besides its summaries."""
    spec = figure_spec(name)
    settings: dict[str, Any] = {"name": name}
    if spec.tasks == "figure_task":
        settings["task"] = figure_task(config)
    if spec.sweep == "K":
        settings.update(k_sweep=k_sweep(config), k=float(config["adapt"]["k"]))
    return settings


def figure_spec(name: str) -> FigureSpec:
    try:
        return FIGURE_SPECS[name]
    except KeyError:
        raise SecretError(f"unknown figure '{name}'; figures: {', '.join(FIGURES)}") from None


def figure_inputs(config: Mapping, name: str) -> list[str]:
    from secret_core.workflow.layout import experiment_dir

    return [f"{experiment_dir(**e)}/summary.json" for e in figure_experiments(config, name)]


def rank_list_experiments(config: Mapping) -> list[dict[str, str]]:
    """Rank-list pictures for the report: SECRET on every Table 1 task, first seed."""
    seed = str(config["seeds"][0])
    return [
        {"setting": "uda", "task": t, "variant": "secret", "seed": seed}
        for t in table_tasks(config, "table1")
    ]
