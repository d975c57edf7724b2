"""Every config key reaches the stages that read it, and only those.

Snakemake reruns a job when its params change, so a stage whose params hold a key it never
reads reruns for nothing (hours at the paper's scale), and a key that reaches no params, no
path and no rule does nothing at all. This test walks every key of the shipped configs (and
the schema keys they leave out), changes it, and compares the stages whose params (or the
workflow's shape, ``dag``) changed with the table below.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from snakemake.utils import validate

import secret_core.workflow as wf

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema.yaml"
TORCH_STAGES = {"pretrain", "extract", "finetune", "evaluate", "rank_list"}
NETWORK = {"pretrain", "init", "extract", "finetune", "evaluate", "rank_list"}

# key (dataset/task names replaced by *) -> stages whose params it changes. "dag": which jobs
# and files exist (paths, epochs, table and figure inputs); "rules": read by the rules
# themselves (threads, resources, grouping).
EXPECTED: dict[str, set[str]] = {
    "device": TORCH_STAGES | {"cluster"},
    "amp": TORCH_STAGES,
    "num_workers": TORCH_STAGES,
    "threads_per_job": {"rules"},
    "gpu_per_job": {"rules"},
    "group_epochs": {"rules"},
    "epochs_per_job": {"dag"},
    "keep_checkpoints_every": {"dag"},
    "seeds": {"dag"},
    "data_root": {"prepare"},
    "datasets.*.synthetic.*": {"prepare"},
    "datasets.*.path": {"prepare"},
    "datasets.*.layout": {"prepare"},
    "datasets.*.paper_dataset": {"table"},
    "tasks.*.source": {"pretrain", "dag"},
    "tasks.*.target": {"pretrain", "dag"},
    "tasks.*.paper_task": {"table"},
    "tasks.*.stands_in_for": {"table"},
    "usl_datasets": {"table", "dag"},
    "model.arch": NETWORK,
    "model.last_stride": NETWORK,
    "model.height": NETWORK | {"prepare"},
    "model.width": NETWORK | {"prepare"},
    "model.init": {"pretrain", "init"},
    "model.bn_groups": {"pretrain", "finetune"},
    "model.pad": {"pretrain", "finetune"},
    "pretrain.*": {"pretrain"},
    "pretrain.loss.*": {"pretrain"},
    "adapt.loss.*": {"finetune"},
    "adapt.random_erasing.*": {"finetune"},
    "evaluation.distance": {"evaluate"},
    "pretrain.target_bn": {"pretrain", "dag"},
    "adapt.epochs": {"summary", "dag"},
    "adapt.eval_every": {"dag"},
    "adapt.iterations": {"finetune"},
    "adapt.batch_size": {"finetune"},
    "adapt.num_instances": {"finetune"},
    "adapt.positives": {"finetune"},
    "adapt.batches": {"finetune"},
    "adapt.classes": {"finetune"},
    "adapt.lr": {"finetune"},
    "adapt.weight_decay": {"finetune"},
    "adapt.lr_steps": {"finetune"},
    "adapt.random_erasing": {"finetune"},
    "adapt.momentum": {"finetune"},
    "adapt.optimizer_state": {"finetune"},
    "adapt.max_draws_per_image": {"finetune"},
    "adapt.k1": {"cluster"},
    "adapt.k2": {"cluster"},
    "adapt.min_samples": {"cluster"},
    "adapt.eps": {"cluster"},
    "adapt.rho": {"cluster"},
    "adapt.eps_neighbours": {"cluster"},
    "adapt.max_distance": {"cluster"},
    "adapt.k": {"refine", "figure", "dag"},
    "adapt.denominator": {"refine"},
    "usl.eps": {"cluster"},
    "usl.lr_steps": {"finetune"},
    "usl.epochs": {"summary", "dag"},
    "evaluation.batch_size": {"extract", "evaluate", "rank_list"},
    "evaluation.eta": {"evaluate"},
    "evaluation.eta_sweep": {"evaluate"},
    "evaluation.rerank": {"evaluate"},
    "table_tasks.*": {"table", "dag"},
    "k_sweep": {"figure", "dag"},
    "figure_task": {"figure", "dag"},
}
# Keys walked elsewhere: variant definitions (tests below and test_workflow_config.py).
NOT_WALKED = {"variants"}


def generic(path: tuple[str, ...]) -> str:
    """``datasets.synth_market.synthetic.seed`` -> the table's ``datasets.*.synthetic.*``."""
    parts = list(path)
    if parts[0] in ("datasets", "tasks", "table_tasks") and len(parts) > 1:
        parts[1] = "*"
    key = ".".join(parts)
    patterns = (
        "datasets.*.synthetic.*",
        "pretrain.loss.*",
        "adapt.loss.*",
        "adapt.random_erasing.*",
        "pretrain.*",
        "table_tasks.*",
    )
    for pattern in patterns:
        if re.fullmatch(re.escape(pattern).replace(r"\*", r".+"), key) and key not in EXPECTED:
            return pattern
    return key


def load(name: str) -> dict:
    config = yaml.safe_load((ROOT / "config" / name).read_text())
    # schema keys the shipped file leaves out, so that they are walked too
    config.setdefault("group_epochs", False)
    config.setdefault("data_root", "datasets")
    config.setdefault("usl", {}).setdefault("epochs", config["adapt"]["epochs"])
    wf.validate_config(config, SCHEMA, validate)
    return config


def variants() -> dict:
    return wf.load_variants(ROOT / "config" / "variants.yaml", {})


def leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        for key in value:
            yield from leaves(value[key], (*path, key))
    else:
        yield path


def changed(value: Any, path: tuple[str, ...], config: dict) -> Any:
    """A different, plausible value for the key at ``path``."""
    key = path[-1]
    if key in ("source", "target"):
        others = [d for d in config["datasets"] if d != value]
        return others[0]
    if key == "figure_task":
        return next(t for t in config["tasks"] if t != value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.5 + 0.001
    if value is None or value == "auto":
        return 0.5
    if isinstance(value, str):
        return value + "_changed"
    if isinstance(value, list):
        if path[0] in ("table_tasks", "usl_datasets") or key == "usl_datasets":
            return value[:-1]
        if key == "lr_steps":
            return [*value, [3, 0.1]]
        return [*value, value[-1] if value else 1]
    raise AssertionError(f"no change defined for {path}: {value!r}")


def fingerprints(config: dict, catalogue: dict) -> dict[str, str]:
    """Stage group -> JSON of every params dict of that group (and the workflow's shape)."""

    def stage(name: str, wildcards: dict) -> Any:
        return wf.stage_settings(config, catalogue, name, wildcards)

    groups: dict[str, Any] = {"pretrain": {}, "prepare": {}}
    for task in config["tasks"]:
        folder = wf.source_model_dir(config, task, 1)
        match = re.fullmatch(r"results/pretrain/(\w+)/bn_(\w+)/seed1", folder)
        wc = {"dataset": match[1], "bn_domain": match[2], "seed": "1"}
        groups["pretrain"][task] = stage("pretrain", wc)
    for name in wf.used_datasets(config):
        groups["prepare"][name] = wf.prepare_settings(config, name)
    groups["init"] = stage("init", {"seed": "1"})
    runs = [
        {"setting": "uda", "task": next(iter(config["tasks"])), "variant": "secret_mt"},
        {"setting": "usl", "task": config["usl_datasets"][0], "variant": "secret_mt"},
        {"setting": "uda", "task": next(iter(config["tasks"])), "variant": "secret"},
    ]
    for name in ("extract", "cluster", "refine", "finetune", "evaluate", "rank_list", "summary"):
        groups[name] = []
        for run in runs:
            wc = {**run, "seed": "1"}
            if name not in ("rank_list", "summary"):
                wc["epoch"] = "002"
            if name == "cluster":
                wc["space"] = "top"
            groups[name].append(stage(name, wc))
    for run in runs:
        start = wf.start_dir(config, run["setting"], run["task"], 1)[len("results/") :]
        groups["extract"].append(wf.start_settings(config, "extract", start))
        groups["cluster"].append(wf.start_settings(config, "cluster", start, "top"))
        groups["evaluate"].append(wf.start_settings(config, "evaluate", start))
    tables = ("table1", "table2", "table3", "table4")
    groups["table"] = {t: wf.table_settings(config, catalogue, t) for t in tables}
    groups["figure"] = {f: wf.figure_settings(config, f) for f in wf.FIGURES}
    groups["dag"] = {
        "sources": {t: wf.source_model_dir(config, t, 1) for t in config["tasks"]},
        "shared": [wf.start_target_dir(config, r["setting"], r["task"], 1) for r in runs],
        "epochs": [wf.num_epochs(config, s) for s in wf.SETTINGS],
        "eval": [wf.eval_epochs(config, s) for s in wf.SETTINGS],
        "checkpoints": wf.checkpoint_epochs(config),
        "spans": [[s.setting, s.first, s.last] for s in wf.epoch_spans(config)],
        "tables": {t: wf.table_inputs(config, catalogue, t) for t in tables},
        "figures": {f: wf.figure_inputs(config, f) for f in wf.FIGURES},
        "rank_lists": wf.rank_list_experiments(config),
        "datasets": wf.used_datasets(config),
    }
    return {name: json.dumps(value, sort_keys=True) for name, value in groups.items()}


def rules_read(key: str) -> bool:
    text = "\n".join(p.read_text() for p in [ROOT / "Snakefile", *ROOT.glob("rules/*.smk")])
    return f'config["{key}"]' in text or f'config.get("{key}"' in text


def walked_keys(name: str) -> list[tuple[str, ...]]:
    config = load(name)
    return [p for p in leaves(config) if p and p[0] not in NOT_WALKED]


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_each_key_changes_exactly_the_stages_that_read_it(name):
    config, catalogue = load(name), variants()
    base = fingerprints(config, catalogue)
    wrong = {}
    for path in walked_keys(name):
        key = generic(path)
        assert key in EXPECTED, f"config key {'.'.join(path)} is missing from EXPECTED"
        altered = copy.deepcopy(config)
        parent = altered
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = changed(parent[path[-1]], path, config)
        after = fingerprints(altered, catalogue)
        moved = {group for group in base if base[group] != after[group]}
        if rules_read(path[0]):
            moved.add("rules")
        if moved != expected_for(key, config):
            wrong[".".join(path)] = (sorted(moved), sorted(expected_for(key, config)))
    assert not wrong, json.dumps(wrong, indent=1)


def expected_for(key: str, config: dict) -> set[str]:
    """EXPECTED, plus what ``adapt.momentum: auto`` adds: the teacher's window is a share of
    the run, so the run's length reaches mean-teacher fine-tuning."""
    if key in ("adapt.epochs", "usl.epochs") and config["adapt"]["momentum"] == "auto":
        return EXPECTED[key] | {"finetune"}
    return EXPECTED[key]


def test_every_schema_key_is_in_the_table():
    """A key added to the schema must say which stages read it (and be walked above)."""
    schema = yaml.safe_load(SCHEMA.read_text())

    def keys(node: dict, prefix: str) -> Iterator[str]:
        props = node.get("properties")
        if props:
            for key, sub in props.items():
                yield from keys(sub, f"{prefix}{key}.")
        elif isinstance(node.get("additionalProperties"), dict):
            yield from keys(node["additionalProperties"], f"{prefix}*.")
        else:
            yield prefix[:-1]

    listed = set(EXPECTED) | NOT_WALKED
    missing = []
    for key in keys(schema, ""):
        if key.split(".")[0] in NOT_WALKED:
            continue
        if key not in listed and generic(tuple(key.split("."))) not in listed:
            missing.append(key)
    assert not missing, missing


def test_momentum_only_reaches_mean_teacher_fine_tuning():
    config, catalogue = load("config.yaml"), variants()
    wc = {"setting": "uda", "task": "duke2market", "seed": "1", "epoch": "002"}
    plain = wf.stage_settings(config, catalogue, "finetune", {**wc, "variant": "secret"})
    mt = wf.stage_settings(config, catalogue, "finetune", {**wc, "variant": "secret_mt"})
    assert "momentum" not in plain and mt["momentum"] == config["adapt"]["momentum"]
    assert "epochs" not in plain
    fixed = copy.deepcopy(config)
    fixed["adapt"]["momentum"] = 0.999
    assert "epochs" not in wf.stage_settings(
        fixed, catalogue, "finetune", {**wc, "variant": "secret_mt"}
    )
    fixed["adapt"]["momentum"] = "auto"
    auto = wf.stage_settings(fixed, catalogue, "finetune", {**wc, "variant": "secret_mt"})
    assert auto["momentum"] == "auto" and auto["epochs"] == config["adapt"]["epochs"]


def test_a_new_synthetic_generator_reruns_the_synthetic_data_jobs_only():
    """The rerun triggers leave out code, so the generator's version sits in the params of
    synthetic datasets' jobs; a real dataset's job does not depend on it."""
    from secret_core.synthetic.version import GENERATOR_VERSION

    demo = load("config.yaml")
    assert all(
        wf.prepare_settings(demo, name)["generator"] == GENERATOR_VERSION
        for name in wf.used_datasets(demo)
    )
    paper = load("paper.yaml")
    assert all("generator" not in wf.prepare_settings(paper, n) for n in wf.used_datasets(paper))


def test_renaming_a_variant_label_reruns_only_its_summary():
    config = load("config.yaml")
    renamed = variants()
    renamed["secret"] = {**renamed["secret"], "label": "SECRET (renamed)"}
    base, after = fingerprints(config, variants()), fingerprints(config, renamed)
    base_wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1"}
    moved = {g for g in base if base[g] != after[g]}
    assert moved == {"summary"}
    for stage in ("extract", "cluster", "refine", "finetune", "evaluate"):
        wc = {**base_wc, "epoch": "002", "space": "top"}
        before = wf.stage_settings(config, variants(), stage, wc)
        now = wf.stage_settings(config, renamed, stage, wc)
        assert before == now, stage
    before = wf.stage_settings(config, variants(), "summary", base_wc)
    assert before != wf.stage_settings(config, renamed, "summary", base_wc)


def test_loss_on_reaches_only_the_fine_tuning_of_the_variants_that_set_it():
    """naive SECRET trains on the concatenation (``loss_on: concat``); the key is absent from
    every other variant's params, so adding it reran no other experiment's epochs."""
    from secret_core.pipeline.training import loss_branches

    config, catalogue = load("config.yaml"), variants()
    wc = {"setting": "uda", "task": "duke2market", "seed": "1", "epoch": "002"}
    for name, entry in catalogue.items():
        params = wf.stage_settings(config, catalogue, "finetune", {**wc, "variant": name})
        if name.startswith("naive_secret"):
            assert params["variant"]["loss_on"] == "concat"
            assert loss_branches(params["variant"]) == ["concat"]
        else:
            assert "loss_on" not in params["variant"], name
            assert loss_branches(params["variant"]) == list(entry["branches"])


@pytest.mark.parametrize(
    ("key", "former", "authors"),
    [("positives", "spread", "other_cameras"), ("batches", "grid", "passes")],
)
def test_sampler_rules_enter_params_only_away_from_the_former_rule(key, former, authors):
    """Epochs finished before ``positives`` (``batches``) existed used ``spread`` (P x K
    grids): their params stay as they were at that value, and the authors' rule, which
    ``config/paper.yaml`` sets, reruns pre-training and fine-tuning but not clustering."""
    catalogue = variants()
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1", "epoch": "2"}
    pre = {"seed": "1", "dataset": "synth_duke", "bn_domain": "synth_market"}
    for rule, expected in ((former, False), (authors, True)):
        config = load("config.yaml")
        config["pretrain"][key] = config["adapt"][key] = rule
        finetune = wf.stage_settings(config, catalogue, "finetune", wc)
        pretrain = wf.stage_settings(config, catalogue, "pretrain", pre)
        assert (key in finetune) is expected
        assert (key in pretrain["pretrain"]) is expected
        if expected:
            assert finetune[key] == pretrain["pretrain"][key] == rule
        assert key not in wf.stage_settings(config, catalogue, "cluster", wc)
    paper = load("paper.yaml")
    assert paper["pretrain"][key] == paper["adapt"][key] == authors


@pytest.mark.parametrize(
    ("key", "former", "other", "authors"),
    [
        ("classes", "trained", "branch", "branch"),
        ("optimizer_state", "fresh", "carry", "fresh"),
        ("max_draws_per_image", None, 20, None),
    ],
)
def test_adapt_rules_enter_params_only_away_from_the_former_rule(key, former, other, authors):
    """Epochs finished before ``adapt.classes`` (``adapt.optimizer_state``,
    ``adapt.max_draws_per_image``) existed used ``trained`` (a fresh Adam, no cap, as the
    authors): their params stay as they were at that value, and the other rule reruns only
    fine-tuning (and what follows it)."""
    catalogue = variants()
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1", "epoch": "2"}
    for rule, expected in ((former, False), (other, True)):
        config = load("config.yaml")
        config["adapt"][key] = rule
        finetune = wf.stage_settings(config, catalogue, "finetune", wc)
        assert (key in finetune) is expected
        if expected:
            assert finetune[key] == rule
        assert key not in wf.stage_settings(config, catalogue, "cluster", wc)
    assert load("paper.yaml")["adapt"][key] == authors


def test_warmup_per_enters_pretrain_params_only_away_from_the_former_rule():
    """Source models trained before ``pretrain.warmup_per`` existed rose per iteration: their
    params stay as they were at that value; the authors' per-epoch warm-up retrains them."""
    pre = {"seed": "1", "dataset": "synth_duke", "bn_domain": "synth_market"}
    for rule, expected in (("iteration", False), ("epoch", True)):
        config = load("config.yaml")
        config["pretrain"]["warmup_per"] = rule
        pretrain = wf.stage_settings(config, variants(), "pretrain", pre)["pretrain"]
        assert ("warmup_per" in pretrain) is expected
    assert load("paper.yaml")["pretrain"]["warmup_per"] == "epoch"


def test_detach_local_enters_pretrain_params_only_away_from_the_authors_rule():
    """Source models trained before ``pretrain.detach_local`` existed used the authors'
    detached map: their params stay as they were; letting the local losses train the
    backbone retrains them."""
    pre = {"seed": "1", "dataset": "synth_duke", "bn_domain": "synth_market"}
    for rule, expected in ((True, False), (False, True)):
        config = load("config.yaml")
        config["pretrain"]["detach_local"] = rule
        pretrain = wf.stage_settings(config, variants(), "pretrain", pre)["pretrain"]
        assert ("detach_local" in pretrain) is expected
    assert load("paper.yaml")["pretrain"]["detach_local"] is True


def test_erasing_draw_enters_params_only_away_from_the_former_rule():
    """``adapt.random_erasing.draw``: torchvision's draw (the former rule) leaves the params
    as they were; the authors' draw reruns fine-tuning."""
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1", "epoch": "2"}
    unset = load("config.yaml")
    del unset["adapt"]["random_erasing"]["draw"]  # as configs written before the key
    former = wf.stage_settings(unset, variants(), "finetune", wc)
    for rule, expected in (("torchvision", False), ("authors", True)):
        config = load("config.yaml")
        config["adapt"]["random_erasing"]["draw"] = rule
        erasing = wf.stage_settings(config, variants(), "finetune", wc)["random_erasing"]
        assert ("draw" in erasing) is expected
        if not expected:
            assert erasing == former["random_erasing"]
    assert load("paper.yaml")["adapt"]["random_erasing"]["draw"] == "authors"


def test_lone_anchors_enter_params_only_away_from_the_former_rule():
    """``loss.triplet.lone_anchors``: dropping them (the former rule) leaves the params of
    pre-training and fine-tuning as they were; the authors' ``self`` reruns both."""
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1", "epoch": "2"}
    pre = {"seed": "1", "dataset": "synth_duke", "bn_domain": "synth_market"}
    for rule, expected in (("drop", False), ("self", True)):
        config = load("config.yaml")
        config["pretrain"]["loss"]["triplet"]["lone_anchors"] = rule
        config["adapt"]["loss"]["triplet"]["lone_anchors"] = rule
        finetune = wf.stage_settings(config, variants(), "finetune", wc)["loss"]["triplet"]
        pretrain = wf.stage_settings(config, variants(), "pretrain", pre)["pretrain"]
        assert ("lone_anchors" in finetune) is expected
        assert ("lone_anchors" in pretrain["loss"]["triplet"]) is expected
    paper = load("paper.yaml")
    assert {paper[s]["loss"]["triplet"]["lone_anchors"] for s in ("pretrain", "adapt")} == {"self"}
