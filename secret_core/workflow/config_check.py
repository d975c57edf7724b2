"""Config validation and the settings each workflow stage receives.

Each stage gets only the settings it uses, as a plain dict in the rule's ``params``: Snakemake
reruns a job when its params change, so changing a hyper-parameter reruns exactly the stages
(and the experiments) that depend on it and nothing else.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from secret_core import MAX_DISTANCE
from secret_core.errors import SecretError

SETTINGS = ("uda", "usl")
K_SUFFIX = re.compile(r"^(?P<base>[A-Za-z0-9_]+?)_k(?P<k>[0-9]*\.?[0-9]+)$")


# --------------------------------------------------------------------------- validation
def validate_config(config: dict, schema_path: str | Path, validate: Callable) -> None:
    """Validate (and fill defaults) with Snakemake's validator; fail with one line.

    ``snakemake.utils.validate`` reports about ten lines per problem; users need the key and
    the allowed values, so the first error is re-stated as one line naming its key path.
    Strings from the command line (``--config 'adapt={k: 0.6}'``) are first converted where
    the schema wants a number, integer or boolean (see :mod:`secret_core.workflow.coerce`).
    """
    from secret_core.workflow.coerce import coerce_config

    coerce_config(config, yaml.safe_load(Path(schema_path).read_text()))
    try:
        validate(config, str(schema_path), set_default=True)
    except Exception as exc:  # snakemake raises WorkflowError wrapping jsonschema's error
        raise SecretError(_one_line_schema_error(config, schema_path) or str(exc)) from None
    for setting in ("adapt", "usl"):
        if setting in config:
            check_eps_rule(config, setting)
    check_combinations(config)


def check_eps_rule(config: Mapping, setting: str) -> None:
    """With ``eps: auto`` exactly one of ``rho`` and ``eps_neighbours`` says how eps is
    chosen: both set would leave the reader guessing which one the run used."""
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


def check_persistence_backend(workflow: Any) -> None:
    """Refuse to plan with a metadata backend other than the one ``profiles/default`` sets.

    Snakemake decides that a finished job is out of date by comparing its params with the
    metadata recorded when it ran. Metadata written by one backend is invisible to the other,
    and a job without metadata counts as up to date: after a run with the file backend, a run
    with ``db`` (or the reverse) would accept every result of another config. Jobs that
    Snakemake spawns itself (cluster job steps) are not checked: they plan nothing.
    """
    from snakemake.settings.enums import PersistenceBackend
    from snakemake_interface_executor_plugins.settings import ExecMode

    if workflow.exec_mode != ExecMode.DEFAULT:
        return
    backend = workflow.workflow_settings.persistence_backend
    if backend != PersistenceBackend.DB:
        raise SecretError(
            f"job metadata backend is '{backend.item_to_choice()}', but this workflow keeps it "
            "in 'db' (set by profiles/default/, which --workflow-profile none turns off): add "
            "--persistence-backend db"
        )


# --------------------------------------------------------------------------- variants
def load_variants(catalogue_path: str | Path, overrides: Mapping[str, Mapping]) -> dict:
    """The variant catalogue (config/variants.yaml) updated by the config's own entries."""
    variants = yaml.safe_load(Path(catalogue_path).read_text()) or {}
    for name, entry in (overrides or {}).items():
        variants[name] = {**variants.get(name, {}), **entry}
    return variants


def resolve_variant(variants: Mapping[str, Mapping], name: str) -> dict:
    """A variant's settings; ``<variant>_k<K>`` is that variant with strictness K (Figure 7)."""
    if name in variants:
        variant = dict(variants[name])
    else:
        match = K_SUFFIX.match(name)
        if not match or match["base"] not in variants:
            known = ", ".join(sorted(variants))
            raise SecretError(
                f"unknown variant '{name}' in the target path; known variants: {known} "
                "(append _k<K> to sweep the refinement strictness, e.g. secret_k0.4)"
            )
        variant = dict(variants[match["base"]])
        variant["k"] = float(match["k"])
    variant.setdefault("use_top", True)
    variant.setdefault("use_bottom", True)
    variant.setdefault("label", name)
    return variant


def clustered_spaces(variants: Mapping[str, Mapping], name: str) -> list[str]:
    """Feature spaces clustered each epoch: one per branch, or their concatenation."""
    variant = resolve_variant(variants, name)
    if variant["cluster_on"] == "concat":
        # the three spaces are clustered too, only to measure their consistency (Figure 5)
        return ["concat", "global", "top", "bottom"]
    return list(variant["branches"])


# --------------------------------------------------------------------------- datasets
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


# --------------------------------------------------------------------------- schedule
def adapt_settings(config: Mapping, setting: str) -> dict:
    """Target-adaptation settings; the fully unsupervised setting replaces some of them.

    ``max_distance`` defaults to the library's ``MAX_DISTANCE`` here, not in the schema, so
    the cluster stage, ``jaccard_distance`` and ``choose_eps`` share one default.
    """
    adapt = copy.deepcopy(dict(config["adapt"]))
    adapt.setdefault("max_distance", MAX_DISTANCE)
    if setting == "usl":
        adapt.update(config.get("usl", {}))
    return adapt


def num_epochs(config: Mapping, setting: str) -> int:
    return int(adapt_settings(config, setting)["epochs"])


def eval_epochs(config: Mapping, setting: str) -> list[int]:
    """Epoch 0 (the starting point), every ``eval_every`` epochs, and the last epoch."""
    adapt = adapt_settings(config, setting)
    last, every = int(adapt["epochs"]), int(adapt.get("eval_every", 1))
    return sorted({0, last, *range(every, last + 1, every)})


def checkpoint_epochs(config: Mapping) -> tuple[list[int], list[int]]:
    """Target epochs whose checkpoint is kept, and those whose checkpoint is temporary.

    An 80-epoch ResNet-50 run writes one checkpoint (model, mean teacher) per
    epoch; keeping them all costs tens of GB per experiment. Resume only needs the newest one,
    which Snakemake keeps until the next epoch's jobs have read it, so only every
    ``keep_checkpoints_every``-th epoch (``0``: none), every evaluated epoch and the last
    epoch of each setting are kept for good. Evaluated epochs must stay: an evaluation whose
    params change (say ``evaluation.eta``) would otherwise need its deleted checkpoint back,
    and Snakemake would recompute the whole chain of epochs to get it.
    """
    every = int(config.get("keep_checkpoints_every", 1))
    settings = ["uda"] + (["usl"] if config.get("usl_datasets") else [])
    kept = {e for s in settings for e in eval_epochs(config, s) if e > 0}
    horizon = max(num_epochs(config, s) for s in settings)
    kept |= {e for e in range(1, horizon + 1) if every and e % every == 0}
    temporary = [e for e in range(1, horizon + 1) if e not in kept]
    return sorted(kept), temporary


def epoch_pattern(epochs: list[int]) -> str:
    """A wildcard regex matching exactly these three-digit epochs (nothing when empty)."""
    if not epochs:
        return "(?!)"
    return "|".join(f"{e:03d}" for e in epochs)


# --------------------------------------------------------------------------- stage settings
def canonical(value: Any) -> Any:
    """``value`` with every mapping's keys sorted (lists keep their order).

    Snakemake compares a job's params with the recorded ones including dict key order, so
    reordering keys in a YAML file (or a tool re-dumping it) would rerun finished epochs.
    Params built from the config go through this to depend on values only.
    """
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value


def stage_settings(
    config: Mapping, variants: Mapping[str, Mapping], stage: str, wildcards: Mapping[str, str]
) -> dict:
    """The settings one stage of one job uses, in canonical key order (see ``canonical``)."""
    return canonical(_stage_settings(config, variants, stage, wildcards))


# Model keys each kind of stage reads. Building a network for inference or fine-tuning reads
# its architecture and input size; only the stages that create a network from nothing read
# how it is initialised (a changed init reaches later stages through their input files).
MODEL_KEYS_LOADED = ("arch", "last_stride", "height", "width")
MODEL_KEYS_CREATED = (*MODEL_KEYS_LOADED, "init")
# Ghost BN (``bn_groups``) only changes batch statistics in training mode.
MODEL_KEYS_TRAINED = (*MODEL_KEYS_LOADED, "bn_groups")
# Fine-tuning settings (from ``adapt``, or ``usl`` overrides) and the variant fields it reads.
FINETUNE_KEYS = (
    "iterations",
    "batch_size",
    "num_instances",
    "lr",
    "weight_decay",
    "lr_steps",
    "random_erasing",
)
# rho or eps_neighbours (whichever the config sets) is added by the cluster stage's settings
CLUSTER_KEYS = ("k1", "k2", "min_samples", "eps", "max_distance")
VARIANT_KEYS = {
    "finetune": ("branches", "mean_teacher"),
    "refine": ("branches", "cluster_on", "refine", "use_top", "use_bottom", "labels"),
}


def _model_settings(config: Mapping, keys: tuple[str, ...]) -> dict:
    model = config["model"]
    return {key: model[key] for key in keys if key in model}


def _runtime(config: Mapping) -> dict:
    """Where and how a torch stage runs (the project's single device switch)."""
    return {
        "device": config.get("device", "auto"),
        "amp": config.get("amp", True),
        "num_workers": config.get("num_workers", 0),
    }


def _stage_settings(
    config: Mapping, variants: Mapping[str, Mapping], stage: str, wildcards: Mapping[str, str]
) -> dict:
    """The settings one stage of one job reads, and nothing else (see the module docstring).

    ``tests/test_workflow_params.py`` walks every config key and checks that changing it
    changes exactly the stages listed there, so a key added here must be added there too.
    """
    if stage == "pretrain":
        pretrain = {k: v for k, v in config["pretrain"].items() if k != "target_bn"}
        return {
            **_runtime(config),
            "model": _model_settings(config, (*MODEL_KEYS_CREATED, "bn_groups")),
            "pretrain": pretrain,
            "seed": int(wildcards["seed"]),
            "dataset": wildcards["dataset"],
            "bn_domain": wildcards["bn_domain"],
        }
    if stage == "init":  # built on the CPU and saved: no device, no data loading
        return {
            "model": _model_settings(config, MODEL_KEYS_CREATED),
            "seed": int(wildcards["seed"]),
        }

    setting = wildcards["setting"]
    variant = resolve_variant(variants, wildcards["variant"])
    adapt = adapt_settings(config, setting)
    run = {key: wildcards[key] for key in ("setting", "task", "variant", "seed")}
    run["seed"] = int(run["seed"])
    if "epoch" in wildcards:
        run["epoch"] = int(wildcards["epoch"])
    evaluation = dict(config["evaluation"])
    model = _model_settings(config, MODEL_KEYS_LOADED)
    epoch = run.get("epoch", 0)
    if stage == "extract":
        return _extract_settings(config, epoch, variant["mean_teacher"])
    if stage == "cluster":
        return _cluster_settings(config, setting, epoch, wildcards["space"])
    if stage == "refine":
        return {
            "run": run,
            "variant": {key: variant[key] for key in VARIANT_KEYS["refine"] if key in variant},
            "k": float(variant.get("k", adapt["k"])),
            "denominator": adapt["denominator"],
        }
    if stage == "finetune":
        out = {
            **_runtime(config),
            "model": _model_settings(config, MODEL_KEYS_TRAINED),
            "run": run,
            "variant": {key: variant[key] for key in VARIANT_KEYS["finetune"]},
            **{key: adapt[key] for key in FINETUNE_KEYS if key in adapt},
        }
        out["loss"] = _finetune_loss(adapt["loss"], variant["mean_teacher"])
        if variant["mean_teacher"]:  # the EMA momentum means nothing without a teacher
            out["momentum"] = adapt["momentum"]
        return out
    if stage == "evaluate":
        return _evaluate_settings(config, epoch, variant["mean_teacher"])
    if stage == "rank_list":
        return {
            **_runtime(config),
            "model": model,
            "run": run,
            "mean_teacher": variant["mean_teacher"],
            "batch_size": evaluation["batch_size"],
        }
    if stage == "summary":
        return {
            "run": run,
            "variant": variant,
            "epochs": int(adapt["epochs"]),
        }
    raise SecretError(f"internal: no settings defined for stage '{stage}'")


def _finetune_loss(loss: Mapping, mean_teacher: bool) -> dict:
    """The part of ``adapt.loss`` a fine-tuning job reads (see ``LossConfig.from_config``):
    with a teacher its four ``mean_teacher`` weights replace ``ce`` and ``triplet.weight``."""
    triplet = dict(loss.get("triplet", {}))
    out = {"label_smoothing": loss.get("label_smoothing", 0.1)}
    if mean_teacher:
        triplet.pop("weight", None)
        out["mean_teacher"] = loss.get("mean_teacher", {})
    else:
        out["ce"] = loss.get("ce", 1.0)
    out["triplet"] = triplet
    return out


def prepare_settings(config: Mapping, name: str) -> dict:
    """The params of a dataset job: how to make or find it and the size its pixels are
    stored at (the model's input), not how tables name it."""
    entry = {k: v for k, v in dataset_entry(config, name).items() if k != "paper_dataset"}
    model = config["model"]
    return canonical(
        {
            "entry": entry,
            "data_root": config.get("data_root", ""),
            "height": model["height"],
            "width": model["width"],
        }
    )


def _extract_settings(config: Mapping, epoch: int, mean_teacher: bool) -> dict:
    return {
        **_runtime(config),
        "model": _model_settings(config, MODEL_KEYS_LOADED),
        "run": {"epoch": epoch},
        "mean_teacher": mean_teacher,
        "batch_size": config["evaluation"]["batch_size"],
    }


def _cluster_settings(config: Mapping, setting: str, epoch: int, space: str) -> dict:
    adapt = adapt_settings(config, setting)
    return {
        "device": config.get("device", "auto"),
        "run": {"epoch": epoch},
        "space": space,
        **{key: adapt[key] for key in CLUSTER_KEYS},
        **_eps_size_rule(adapt),
    }


def _eps_size_rule(adapt: Mapping) -> dict:
    """``eps_neighbours`` when the config sets it, else ``rho``: only the rule in use enters
    the params, so configs without ``eps_neighbours`` keep theirs (no rerun)."""
    if adapt.get("eps_neighbours") is not None:
        return {"eps_neighbours": float(adapt["eps_neighbours"])}
    return {"rho": adapt["rho"]} if "rho" in adapt else {}


def _evaluate_settings(config: Mapping, epoch: int, mean_teacher: bool) -> dict:
    return {
        **_runtime(config),
        "model": _model_settings(config, MODEL_KEYS_LOADED),
        "run": {"epoch": epoch},
        "mean_teacher": mean_teacher,
        **dict(config["evaluation"]),
    }


START_PATTERN = r"pretrain/[A-Za-z0-9_]+/bn_[A-Za-z0-9_]+/seed\d+|init/seed\d+"


def start_dir(config: Mapping, setting: str, task: str, seed: int | str) -> str:
    """Folder of the model every experiment of (setting, task, seed) starts from."""
    if setting == "uda":
        return source_model_dir(config, task, seed)
    return f"results/init/seed{seed}"


def start_target_dir(config: Mapping, setting: str, task: str, seed: int | str) -> str:
    """What every variant starting from the same model computes alike, done once.

    The epoch-0 evaluation, the first epoch's features (the start model's, which is also
    the first teacher) and their clusterings depend only on the start model, the target and
    the extraction/cluster settings, not on the variant: they live beside the start model,
    one folder per target, and every experiment reads them from there.
    """
    target = target_dataset(config, setting, task)
    return f"{start_dir(config, setting, task, seed)}/target_{target}"


def start_settings(config: Mapping, stage: str, start: str, space: str = "") -> dict:
    """Params of the shared first-epoch stages (see ``start_target_dir``)."""
    setting = "usl" if start.startswith("init/") else "uda"
    if stage == "extract":
        return canonical(_extract_settings(config, 1, mean_teacher=False))
    if stage == "cluster":
        return canonical(_cluster_settings(config, setting, 1, space))
    if stage == "evaluate":
        return canonical(_evaluate_settings(config, 0, mean_teacher=False))
    raise SecretError(f"internal: no shared settings for stage '{stage}'")


def source_model_dir(config: Mapping, task: str, seed: int | str) -> str:
    """Folder of the source model that task ``task`` starts from (see ``layout``).

    With ``pretrain.target_bn`` (the authors' pre-training) a batch of the task's target
    images is forwarded at every iteration so BatchNorm's statistics also describe the
    target: the model belongs to the (source, target) pair. Without it the model depends on
    the source only and every task with that source shares it.
    """
    from secret_core.workflow.layout import source_model_dir as folder

    entry = config["tasks"][task]
    bn_domain = entry["target"] if config["pretrain"].get("target_bn", True) else entry["source"]
    return folder(entry["source"], bn_domain, seed)


# --------------------------------------------------------------------------- tables
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


# --------------------------------------------------------------------------- figures
FIGURES = ("fig1c", "fig5", "fig6", "fig7")
FIG5_VARIANTS = {
    "SECRET(MT)": "secret_mt",
    "SECRET-MR(MT)": "secret_mr_mt",
    "naive SECRET(MT)": "naive_secret_mt",
}
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
    if name == "fig1c":
        pairs = [(figure_task(config), v) for v in ("sup", "secret_mr")]
    elif name == "fig5":  # the paper draws every curve of Figure 5 with the mean teacher
        pairs = [(figure_task(config), v) for v in FIG5_VARIANTS.values()]
    elif name == "fig6":
        pairs = [(t, "secret") for t in table_tasks(config, "table4")]
    elif name == "fig7":
        default_k = float(config["adapt"]["k"])
        pairs = [
            (t, k_variant(k, default_k))
            for t in table_tasks(config, "table3")
            for k in k_sweep(config)
        ]
    else:
        raise SecretError(f"unknown figure '{name}'; figures: {', '.join(FIGURES)}")
    return [
        {"setting": "uda", "task": t, "variant": v, "seed": str(s)}
        for t, v in pairs
        for s in config["seeds"]
    ]


def figure_settings(config: Mapping, name: str) -> dict:
    """The params of one figure job: what that figure reads besides its summaries."""
    if name in ("fig1c", "fig5"):
        return {"name": name, "task": figure_task(config)}
    if name == "fig6":
        return {"name": name}
    if name == "fig7":
        return {"name": name, "k_sweep": k_sweep(config), "k": float(config["adapt"]["k"])}
    raise SecretError(f"unknown figure '{name}'; figures: {', '.join(FIGURES)}")


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
