"""Checking a config before any job: the schema (one-line errors), value combinations the
schema cannot express, and the job-metadata backend that params-based reruns rely on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from secret_core.errors import SecretError


def validate_config(config: dict, schema_path: str | Path, validate: Callable) -> list[str]:
    """Validate (and fill defaults) with Snakemake's validator; fail with one line.

    ``snakemake.utils.validate`` reports about ten lines per problem; users need the key and
    the allowed values, so the first error is re-stated as one line naming its key path.
    Strings from the command line (``--config 'adapt={k: 0.6}'``) are first converted where
    the schema wants a number, integer or boolean (see :mod:`secret_core.workflow.coerce`).
    Returns the notices of :func:`use_dataset_folders`, for the planning process to print.
    """
    from secret_core.workflow.coerce import coerce_config

    notices = use_dataset_folders(config)
    coerce_config(config, yaml.safe_load(Path(schema_path).read_text()))
    try:
        validate(config, str(schema_path), set_default=True)
    except Exception as exc:  # snakemake raises WorkflowError wrapping jsonschema's error
        raise SecretError(_one_line_schema_error(config, schema_path) or str(exc)) from None
    for setting in ("adapt", "usl"):
        if setting in config:
            check_eps_rule(config, setting)
    check_combinations(config)
    return notices


def use_dataset_folders(config: dict) -> list[str]:
    """A dataset entry with a ``path`` reads that folder, even where an earlier config file
    gave the same name a ``synthetic`` spec; an entry with neither is a one-line error.

    Snakemake merges config files key by key, so an overlay that points the demo's datasets
    at folders of images (``--configfile config/config.yaml mine.yaml``, the demo's recipe on
    other data) leaves each entry with both keys. The folder is what the overlay asks for:
    the spec is dropped, and one notice per entry says so.
    """
    notices = []
    for name, entry in (config.get("datasets") or {}).items():
        if not isinstance(entry, dict):
            continue
        if "path" in entry and "synthetic" in entry:
            del entry["synthetic"]
            notices.append(
                f"config: dataset '{name}' has a path and a synthetic spec (a later config file "
                f"merged into an earlier one's entry); it reads the images at {entry['path']!r}"
            )
        elif "path" not in entry and "synthetic" not in entry:
            raise SecretError(
                f"config key 'datasets.{name}' needs 'path' (a folder of images, with "
                "'layout') or 'synthetic' (a generated domain)"
            )
    return notices


def check_eps_rule(config: Mapping, setting: str) -> None:
    """With ``eps: auto`` exactly one of ``rho`` and ``eps_neighbours`` says how eps is
    chosen: both set would leave the reader guessing which one the run used."""
    from secret_core.workflow.epochs import adapt_settings

    adapt = adapt_settings(config, "usl" if setting == "usl" else "uda")
    if adapt.get("eps") != "auto":
        return
    has_rho, has_rule = "rho" in adapt, adapt.get("eps_neighbours") is not None
    if has_rho and has_rule and setting == "adapt":
        raise SecretError(
            "config: adapt.rho and adapt.eps_neighbours are both set; keep one "
            "(eps_neighbours derives rho from the target's size)"
        )
    if not has_rho and not has_rule:
        raise SecretError(
            f"config: eps is auto in '{setting}' but neither adapt.rho nor "
            "adapt.eps_neighbours is set; set one of them or give eps a number"
        )


def check_combinations(config: Mapping) -> None:
    """Settings the schema cannot judge alone (a margin with a soft-margin triplet, an area
    range whose minimum exceeds its maximum), checked before any job starts by building
    what the stages will build; raises a one-line SecretError naming the key."""
    from secret_core.data.erasing import RandomErasingConfig
    from secret_core.losses.config import LossConfig

    LossConfig.from_config(config.get("pretrain", {}).get("loss"), "pretrain.loss")
    adapt = config.get("adapt", {})
    for teacher in (False, True):
        LossConfig.from_config(adapt.get("loss"), "adapt.loss", mean_teacher=teacher)
    if "random_erasing" in adapt:
        RandomErasingConfig.from_config(adapt["random_erasing"], "adapt.random_erasing")


def _one_line_schema_error(config: dict, schema_path: str | Path) -> str | None:
    import jsonschema

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    errors = list(validator_cls(schema).iter_errors(config))
    if not errors:
        return None
    error = jsonschema.exceptions.best_match(errors)
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        where = key if error.absolute_path else "top level"
        return (
            f"config: unknown key {', '.join(map(repr, unknown))} at {where}; "
            f"allowed keys there: {allowed}"
        )
    if error.validator == "enum":
        return f"config key '{key}': {error.instance!r} is not one of {error.validator_value}"
    return f"config key '{key}': {error.message}"


def relative_paths(paths: list[str | Path], base: str | Path) -> list[str]:
    """Configfile paths as a user reads them: relative to the workflow folder when inside it."""
    out = []
    for path in paths:
        try:
            out.append(str(Path(path).resolve().relative_to(Path(base).resolve())))
        except ValueError:
            out.append(str(path))
    return out


# Where checkouts before the switch to the file backend kept job metadata (SQLite).
OLD_METADATA_DB = ".snakemake/metadata.db"


def check_persistence_backend(workflow: Any) -> None:
    """Refuse to plan with a metadata backend other than Snakemake's default, the file one
    (which ``profiles/default`` also names).

    Snakemake decides that a finished job is out of date by comparing its params with the
    metadata recorded when it ran. Metadata written by one backend is invisible to the other,
    and a job without metadata counts as up to date: after a run with the file backend, a run
    with ``db`` (or the reverse) would accept every result of another config. The file backend
    is the one every way of running gets by default (with or without a profile), and it plans
    faster. Jobs that Snakemake spawns itself (cluster job steps) are not checked: they plan
    nothing.
    """
    from snakemake.settings.enums import PersistenceBackend
    from snakemake_interface_executor_plugins.settings import ExecMode

    if workflow.exec_mode != ExecMode.DEFAULT:
        return
    backend = workflow.workflow_settings.persistence_backend
    if backend != PersistenceBackend.FILE:
        raise SecretError(
            f"job metadata backend is '{backend.item_to_choice()}', but this workflow keeps it "
            "in 'file' (.snakemake/metadata/, Snakemake's default): drop "
            f"--persistence-backend {backend.item_to_choice()} (or set it to file)"
        )
    if Path(OLD_METADATA_DB).exists():
        raise SecretError(
            f"{OLD_METADATA_DB} holds job metadata of an older checkout, which the file "
            "backend cannot read, so results made with other settings would be taken as up to "
            f"date: delete {OLD_METADATA_DB}, then remove results/ or run once with --forceall"
        )
