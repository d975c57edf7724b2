"""What made a result: package version, workflow commit, config name and settings hash.

A number in ``summary.json`` or a table is only useful if it can be traced back to the code
and the settings that produced it: the same path (``results/table1.csv``) is written by the
synthetic demo, the paper recipe and every tweaked config. Each of those files therefore
records a small provenance block built here.

Nothing here goes into a rule's ``params``: a commit or version in params would rerun every
job at every commit. The block is computed when the job runs, from what the job already has
(its settings, the run's config and the folder of the workflow's scripts).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CONFIG_NAME_KEY = "_configfile"
"""Key the workflow adds to its config (after validation) naming the configfile(s) it read."""

DEFAULT_CONFIGFILE = "config/config.yaml"
HASH_CHARS = 16


def package_version() -> str:
    """The installed ``secret-reid`` version, else the version of the imported package."""
    from importlib import metadata

    try:
        return metadata.version("secret-reid")
    except metadata.PackageNotFoundError:
        from secret_core import __version__

        return __version__


def git_commit(directory: str | Path | None) -> str | None:
    """HEAD of the git checkout holding ``directory`` (``-dirty`` when tracked files changed).

    ``None`` when there is no directory, no git, or no repository (e.g. an unpacked tarball).
    """
    if directory is None or not Path(directory).exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(directory), "diff", "--quiet", "HEAD", "--"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = head.stdout.strip()
    return f"{commit}-dirty" if dirty.returncode == 1 else commit


def settings_hash(settings: Any) -> str:
    """A short SHA-256 of ``settings`` that ignores mapping key order.

    Keys starting with ``_`` (bookkeeping the workflow adds, such as the configfile name) are
    left out, so the same settings read from two files hash the same.
    """
    text = json.dumps(_public(settings), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def _public(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _public(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_public(v) for v in value]
    return value


def config_name(configfiles: Sequence[str | Path]) -> str:
    """The configfile path(s) a run read, as given; the embedded default when none was."""
    if not configfiles:
        return DEFAULT_CONFIGFILE
    return ", ".join(str(path) for path in configfiles)


def provenance(
    config: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
    workflow_dir: str | Path | None = None,
) -> dict[str, Any]:
    """The provenance block of one output.

    ``config_hash`` identifies the whole run configuration (command-line overrides included),
    ``settings_hash`` the narrower settings of the job that wrote the file.
    """
    return {
        "package_version": package_version(),
        "git_commit": git_commit(workflow_dir),
        "config": str(config.get(CONFIG_NAME_KEY, DEFAULT_CONFIGFILE)),
        "config_hash": settings_hash(config),
        "settings_hash": settings_hash(settings) if settings is not None else None,
    }


def from_snakemake(snakemake: Any) -> dict[str, Any]:
    """The provenance block of a Snakemake ``script:`` job (its params' ``settings``)."""
    settings = getattr(snakemake.params, "settings", None)
    return provenance(
        snakemake.config, settings, workflow_dir=getattr(snakemake, "scriptdir", None)
    )


def describe(record: Mapping[str, Any]) -> str:
    """One line for people (Markdown tables): what made this file."""
    commit = record.get("git_commit") or "unknown (not a git checkout)"
    return (
        f"Made by secret-reid {record.get('package_version')}, workflow commit {commit}, "
        f"config {record.get('config')} (settings hash {record.get('config_hash')})."
    )
