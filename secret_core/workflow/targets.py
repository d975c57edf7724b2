"""Check the targets a user asked for before Snakemake builds the DAG.

A misspelled target otherwise surfaces as Snakemake's bare "No rule to produce
results/tabel1.csv", or, for a misspelled task or variant inside an experiment path, as an
``InputFunctionException ... KeyError`` with a traceback from an input function. Checked here
first, each mistake is one line naming what is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from secret_core.errors import SecretError


class UnknownTarget(SystemExit):
    """A requested target no rule can make, reported as one line.

    A ``SystemExit`` on purpose: Snakemake wraps every ``Exception`` an input function raises
    into a multi-line ``InputFunctionException`` with wildcards and a traceback, but lets
    ``SystemExit`` through, which Python prints as its message alone (exit status 1).
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"SecretError: {message}")


TABLES = ("table1", "table2", "table3", "table4")
EXPERIMENT_PATH = re.compile(
    r"^results/(?P<setting>[^/]+)/(?P<task>[^/]+)/(?P<variant>[^/]+)/(?P<seed>[^/]+)(/.*)?$"
)
# Top-level folders under results/ that hold intermediate outputs with their own rules.
OTHER_FOLDERS = ("data", "pretrain", "init", "logs")


def known_targets(figures: Iterable[str]) -> str:
    """The targets a user can ask for, in one line (for error messages)."""
    figure_list = ",".join(figures)
    return (
        f"{', '.join(TABLES)}, figures, rank_lists, all; files results/table<N>.csv|md, "
        f"results/figures/{{{figure_list}}}.png|pdf, "
        "results/{uda|usl}/<task>/<variant>/seed<N>/summary.json"
    )


def fail_unknown(
    target: str,
    config: Mapping,
    variants: Mapping[str, Mapping],
    rule_names: Iterable[str],
    figures: Iterable[str],
) -> None:
    """Raise :class:`UnknownTarget` for ``target``, which only a catch-all rule matched."""
    figures = tuple(figures)
    problem = target_problem(target, config, variants, set(rule_names), figures)
    raise UnknownTarget(
        problem or f"no rule makes '{target}'; known targets: {known_targets(figures)}"
    )


def target_problem(
    target: str,
    config: Mapping,
    variants: Mapping[str, Mapping],
    rules: set[str],
    figures: tuple[str, ...],
) -> str | None:
    path = target[2:] if target.startswith("./") else target
    if "/" not in path and "." not in path:
        if path in rules:
            return None
        return f"unknown target '{target}' (no rule of that name); known targets: {known_targets(figures)}"
    if not path.startswith("results/"):
        return None  # not ours: let Snakemake decide
    parts = path.split("/")
    if len(parts) == 2:
        stem, _, ext = parts[1].partition(".")
        if ext in ("csv", "md") and stem not in TABLES:
            return f"unknown table '{target}'; known targets: {known_targets(figures)}"
        return None
    if parts[1] == "figures":
        stem, _, ext = parts[-1].partition(".")
        if len(parts) != 3 or stem not in figures or ext not in ("png", "pdf"):
            return f"unknown figure '{target}'; known targets: {known_targets(figures)}"
        return None
    if parts[1] in OTHER_FOLDERS:
        return None
    match = EXPERIMENT_PATH.match(path)
    if not match or match["setting"] not in ("uda", "usl"):
        return f"unknown target '{target}' (results/ holds {', '.join(('uda', 'usl', 'figures', *OTHER_FOLDERS))})"
    return experiment_problem(target, dict(match.groupdict()), config, variants)


def check_experiment(
    wildcards: Mapping[str, str], config: Mapping, variants: Mapping[str, Mapping]
) -> None:
    """Raise :class:`UnknownTarget` when an experiment's task, seed or variant is unknown.

    Called from the input functions that first see an experiment's wildcards, so a
    misspelled ``results/uda/duke2markt/...`` stops with the known tasks, not a KeyError.
    """
    fields = {key: str(wildcards[key]) for key in ("setting", "task", "variant", "seed")}
    if not fields["seed"].startswith("seed"):
        fields["seed"] = f"seed{fields['seed']}"
    target = "results/{setting}/{task}/{variant}/{seed}".format(**fields)
    problem = experiment_problem(target, fields, config, variants)
    if problem:
        raise UnknownTarget(problem)


def experiment_problem(
    target: str, match: Mapping[str, str], config: Mapping, variants: Mapping[str, Mapping]
) -> str | None:
    """What is wrong with one experiment path's fields, or None."""
    from secret_core.workflow.config_check import resolve_variant

    task = match["task"]
    if match["setting"] == "uda":
        known = sorted(config.get("tasks", {}))
        if task not in known:
            return f"unknown task '{task}' in '{target}'; tasks of this config: {', '.join(known)}"
    else:
        known = sorted(config.get("datasets", {}))
        if task not in known:
            return f"unknown dataset '{task}' in '{target}'; datasets of this config: {', '.join(known)}"
    if not re.fullmatch(r"seed\d+", match["seed"]):
        return f"'{match['seed']}' in '{target}' is not seed<N> (e.g. seed1)"
    try:
        resolve_variant(variants, match["variant"])
    except SecretError as exc:
        return f"{exc} ('{target}')"
    return None
