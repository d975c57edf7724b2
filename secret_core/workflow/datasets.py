"""The datasets and tasks a config names: where their images are, which ones a run uses,
and the one check that they exist before any job starts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from secret_core.errors import SecretError


def dataset_entry(config: Mapping, name: str) -> dict:
    try:
        return dict(config["datasets"][name])
    except KeyError:
        known = ", ".join(sorted(config.get("datasets", {})))
        raise SecretError(f"config names dataset '{name}' but datasets has only: {known}") from None


def dataset_path(config: Mapping, name: str, results_dir: str = "results") -> Path:
    """Where a dataset's images are: the user's folder, or the generated synthetic domain."""
    entry = dataset_entry(config, name)
    if "synthetic" in entry:
        return Path(results_dir) / "data" / name / "images"
    path = Path(entry["path"]).expanduser()
    if not path.is_absolute() and config.get("data_root"):
        path = Path(config["data_root"]).expanduser() / path
    return path


def used_datasets(config: Mapping) -> list[str]:
    names = []
    for task in config.get("tasks", {}).values():
        names += [task["source"], task["target"]]
    names += list(config.get("usl_datasets", []))
    return list(dict.fromkeys(names))


def check_datasets(config: Mapping) -> None:
    """Stop before any job when real datasets the config uses are not where it says.

    Every dataset is checked and all problems are named in one message: a user setting up
    three datasets should not discover them missing one run at a time.
    """
    from secret_core.data import check_layout

    problems = []
    for name in used_datasets(config):
        entry = dataset_entry(config, name)
        if "path" in entry:
            try:
                check_layout(dataset_path(config, name), entry.get("layout", "auto"))
            except SecretError as exc:
                problems.append(f"dataset '{name}': {exc}")
    if len(problems) == 1:
        raise SecretError(problems[0])
    if problems:
        raise SecretError(
            f"{len(problems)} datasets of the config are missing or unrecognised: "
            + " | ".join(problems)
        )


def task_entry(config: Mapping, task: str) -> dict:
    """The config entry of UDA task ``task``; one line naming the known tasks otherwise."""
    try:
        return dict(config["tasks"][task])
    except KeyError:
        known = ", ".join(sorted(config.get("tasks", {})))
        raise SecretError(f"unknown task '{task}' in the target path; tasks: {known}") from None


def target_dataset(config: Mapping, setting: str, task: str) -> str:
    if setting == "uda":
        try:
            return config["tasks"][task]["target"]
        except KeyError:
            known = ", ".join(sorted(config.get("tasks", {})))
            raise SecretError(f"unknown task '{task}' in the target path; tasks: {known}") from None
    if task not in config.get("datasets", {}):
        raise SecretError(f"unknown dataset '{task}' in the usl target path")
    return task
