"""The params of every workflow job: exactly the settings that job reads.

Snakemake reruns a job when its params change, so changing a hyper-parameter reruns exactly
the stages (and the experiments) that read it and nothing else; ``tests/test_workflow_params.py``
walks every config key to hold that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from secret_core.data.erasing import DEFAULT_DRAW
from secret_core.data.positives import DEFAULT_BATCHES, DEFAULT_POSITIVES
from secret_core.errors import SecretError
from secret_core.pipeline.rules import (
    DEFAULT_CLASSES,
    DEFAULT_DETACH_LOCAL,
    DEFAULT_LONE_ANCHORS,
    DEFAULT_OPTIMIZER_STATE,
    DEFAULT_WARMUP_PER,
)
from secret_core.synthetic.version import GENERATOR_VERSION
from secret_core.workflow.datasets import dataset_entry
from secret_core.workflow.epochs import adapt_settings
from secret_core.workflow.variants import resolve_variant


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
    return canonical(
        _stage_settings(
            config,
            stage,
            wildcards,
            adapt_of=lambda setting: adapt_settings(config, setting),
            variant_of=lambda name: resolve_variant(variants, name),
        )
    )


# Model keys each kind of stage reads. Building a network for inference or fine-tuning reads
# its architecture and input size; only the stages that create a network from nothing read
# how it is initialised (a changed init reaches later stages through their input files).
MODEL_KEYS_LOADED = ("arch", "last_stride", "height", "width")


MODEL_KEYS_CREATED = (*MODEL_KEYS_LOADED, "init")


# Ghost BN (``bn_groups``) only changes batch statistics in training mode, and the padding
# before the random crop (``pad``) only training images.
MODEL_KEYS_TRAINED = (*MODEL_KEYS_LOADED, "bn_groups", "pad")


# Fine-tuning settings (from ``adapt``, or ``usl`` overrides) and the variant fields it reads.
FINETUNE_KEYS = (
    "iterations",
    "batch_size",
    "num_instances",
    "positives",
    "batches",
    "classes",
    "lr",
    "weight_decay",
    "lr_steps",
    "random_erasing",
    "optimizer_state",
    "max_draws_per_image",
)


# rho or eps_neighbours (whichever the config sets) is added by the cluster stage's settings
CLUSTER_KEYS = ("k1", "k2", "min_samples", "eps", "max_distance")


# ``loss_on`` only where a variant sets it: a key every variant carried would change every
# fine-tuning job's params and rerun every finished epoch.
VARIANT_KEYS = {
    "finetune": ("branches", "mean_teacher", "loss_on"),
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
    config: Mapping,
    stage: str,
    wildcards: Mapping[str, str],
    adapt_of: Callable[[str], Mapping],
    variant_of: Callable[[str], Mapping],
) -> dict:
    """The settings one stage of one job reads, and nothing else (see the module docstring).

    ``tests/test_workflow_params.py`` walks every config key and checks that changing it
    changes exactly the stages listed there, so a key added here must be added there too.
    ``adapt_of`` (setting -> ``adapt_settings``) and ``variant_of`` (name ->
    ``resolve_variant``) are passed in so that the workflow, which asks for every job of a
    run, can answer them from a table built once (:mod:`secret_core.workflow.planner`); the
    result is only read, never changed, and leaves through ``canonical`` as fresh objects.
    """
    if stage == "pretrain":
        pretrain = _without_former_defaults(
            {k: v for k, v in config["pretrain"].items() if k != "target_bn"}
        )
        if isinstance(pretrain.get("loss"), Mapping):
            pretrain["loss"] = _triplet_without_former_defaults(pretrain["loss"])
        return {
            **_runtime(config),
            "model": _model_settings(config, (*MODEL_KEYS_CREATED, "bn_groups", "pad")),
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
    variant = variant_of(wildcards["variant"])
    adapt = adapt_of(setting)
    run = {key: wildcards[key] for key in ("setting", "task", "variant", "seed")}
    run["seed"] = int(run["seed"])
    if "epoch" in wildcards:
        run["epoch"] = int(wildcards["epoch"])
    epoch = run.get("epoch", 0)
    if stage == "extract":
        return _extract_settings(config, epoch, variant["mean_teacher"])
    if stage == "cluster":
        return _cluster_settings(config, adapt, epoch, wildcards.get("space"))
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
            "variant": {key: variant[key] for key in VARIANT_KEYS["finetune"] if key in variant},
            **{key: adapt[key] for key in FINETUNE_KEYS if key in adapt},
        }
        out = _without_former_defaults(out)
        out["loss"] = _finetune_loss(adapt["loss"], variant["mean_teacher"])
        if variant["mean_teacher"]:  # the EMA momentum means nothing without a teacher
            out["momentum"] = adapt["momentum"]
            if adapt["momentum"] == "auto":  # its window is a share of the run's iterations
                out["epochs"] = int(adapt["epochs"])
        return out
    if stage == "evaluate":
        return _evaluate_settings(config, epoch, variant["mean_teacher"])
    if stage == "rank_list":
        return {
            **_runtime(config),
            "model": _model_settings(config, MODEL_KEYS_LOADED),
            "run": run,
            "mean_teacher": variant["mean_teacher"],
            "batch_size": config["evaluation"]["batch_size"],
        }
    if stage == "summary":
        return {
            "run": run,
            "variant": variant,
            "epochs": int(adapt["epochs"]),
        }
    raise SecretError(f"internal: no settings defined for stage '{stage}'")


# Keys added after runs existed, with the value that reproduces the former behaviour: a job's
# params name them only away from that value, so epochs finished before a key existed keep
# their params and are not rerun.
FORMER_DEFAULTS = {
    "positives": DEFAULT_POSITIVES,
    "batches": DEFAULT_BATCHES,
    "classes": DEFAULT_CLASSES,
    "warmup_per": DEFAULT_WARMUP_PER,
    "detach_local": DEFAULT_DETACH_LOCAL,
    "optimizer_state": DEFAULT_OPTIMIZER_STATE,
    "max_draws_per_image": None,
}
ERASING_FORMER_DEFAULTS = {"draw": DEFAULT_DRAW}
TRIPLET_FORMER_DEFAULTS = {"lone_anchors": DEFAULT_LONE_ANCHORS}
_ABSENT = object()  # no setting holds it: keys outside a former-defaults table always stay


def _without_former_defaults(settings: dict, former: Mapping = FORMER_DEFAULTS) -> dict:
    """``settings`` without the keys of ``former`` that hold their former value (which the
    job then uses); ``random_erasing`` loses those of ERASING_FORMER_DEFAULTS alike."""
    out = {key: value for key, value in settings.items() if former.get(key, _ABSENT) != value}
    if isinstance(out.get("random_erasing"), Mapping):
        out["random_erasing"] = _without_former_defaults(
            out["random_erasing"], ERASING_FORMER_DEFAULTS
        )
    return out


def _triplet_without_former_defaults(loss: Mapping) -> dict:
    """``loss`` whose ``triplet`` lacks the keys of TRIPLET_FORMER_DEFAULTS at their former
    value (see FORMER_DEFAULTS)."""
    triplet = loss.get("triplet")
    if not isinstance(triplet, Mapping):
        return dict(loss)
    return {**loss, "triplet": _without_former_defaults(triplet, TRIPLET_FORMER_DEFAULTS)}


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
    out["triplet"] = _without_former_defaults(triplet, TRIPLET_FORMER_DEFAULTS)
    return out


def prepare_settings(config: Mapping, name: str) -> dict:
    """The params of a dataset job: how to make or find it and the size its pixels are
    stored at (the model's input), not how tables name it."""
    entry = {k: v for k, v in dataset_entry(config, name).items() if k != "paper_dataset"}
    model = config["model"]
    settings = {
        "entry": entry,
        "data_root": config.get("data_root", ""),
        "height": model["height"],
        "width": model["width"],
    }
    if "synthetic" in entry:
        # The generator's version reruns the job (and everything after it) when a new
        # generator draws other images; the rerun triggers leave out code changes.
        settings["generator"] = GENERATOR_VERSION
    return canonical(settings)


def _extract_settings(config: Mapping, epoch: int, mean_teacher: bool) -> dict:
    return {
        **_runtime(config),
        "model": _model_settings(config, MODEL_KEYS_LOADED),
        "run": {"epoch": epoch},
        "mean_teacher": mean_teacher,
        "batch_size": config["evaluation"]["batch_size"],
    }


def _cluster_settings(config: Mapping, adapt: Mapping, epoch: int, space: str | None) -> dict:
    """``adapt``: the setting's ``adapt_settings`` (computed by the caller, once per run in
    the workflow). ``space`` None: the settings of every space a pseudo_labels job clusters
    (its ``spaces`` param names them)."""
    out = {
        "device": config.get("device", "auto"),
        "run": {"epoch": epoch},
        **{key: adapt[key] for key in CLUSTER_KEYS},
        **_eps_size_rule(adapt),
    }
    if space is not None:
        out["space"] = space
    return out


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


def start_setting(start: str) -> str:
    """The setting whose experiments start from the model in ``results/{start}/``."""
    return "usl" if start.startswith("init/") else "uda"


def start_settings(
    config: Mapping,
    stage: str,
    start: str,
    space: str = "",
    adapt_of: Callable[[str], Mapping] | None = None,
) -> dict:
    """Params of the shared first-epoch stages (see ``start_target_dir``); ``adapt_of`` as
    in ``_stage_settings`` (default: ``adapt_settings`` of ``config``)."""
    if stage == "extract":
        return canonical(_extract_settings(config, 1, mean_teacher=False))
    if stage == "cluster":
        setting = start_setting(start)
        adapt = adapt_of(setting) if adapt_of else adapt_settings(config, setting)
        return canonical(_cluster_settings(config, adapt, 1, space))
    if stage == "evaluate":
        return canonical(_evaluate_settings(config, 0, mean_teacher=False))
    raise SecretError(f"internal: no shared settings for stage '{stage}'")
