"""The rules' per-run memo (``wf.Planner``) answers exactly what the library functions answer.

The workflow asks the planner, the library's own tests ask the functions: if the two drifted,
the params Snakemake compares (and so which jobs rerun) would no longer be the tested ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

import secret_core.workflow as wf
from secret_core.errors import SecretError
from secret_core.workflow.targets import UnknownTarget

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema.yaml"
STAGES = ("extract", "cluster", "refine", "finetune", "evaluate", "rank_list", "summary")


def load(name: str) -> dict:
    config = yaml.safe_load((ROOT / "config" / name).read_text())
    wf.validate_config(config, SCHEMA, validate)
    return config


def experiments(config: dict) -> list[dict[str, str]]:
    """Every experiment the tables and figures read, plus a K-sweep and a USL one."""
    runs = [
        e for t in ("table1", "table2", "table3", "table4") for e in wf.table_experiments(config, t)
    ]
    runs += [e for f in wf.FIGURES for e in wf.figure_experiments(config, f)]
    unique = {tuple(sorted(e.items())): e for e in runs}
    return list(unique.values())


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_planner_gives_the_library_answers(name):
    config, catalogue = load(name), wf.load_variants(ROOT / "config" / "variants.yaml", {})
    plan = wf.Planner(config, catalogue)
    runs = experiments(config)
    assert {r["setting"] for r in runs} == {"uda", "usl"}
    for run in runs:
        setting, task, variant, seed = (run[k] for k in ("setting", "task", "variant", "seed"))
        plan.check_experiment(run)
        assert plan.target_dataset(setting, task) == wf.target_dataset(config, setting, task)
        assert plan.start_dir(setting, task, seed) == wf.start_dir(config, setting, task, seed)
        assert plan.start_target_dir(setting, task, seed) == wf.start_target_dir(
            config, setting, task, seed
        )
        assert plan.clustered_spaces(variant) == wf.clustered_spaces(catalogue, variant)
        assert plan.num_epochs(setting) == wf.num_epochs(config, setting)
        assert list(plan.eval_epochs(setting)) == wf.eval_epochs(config, setting)
        for epoch in ("001", "002", f"{wf.num_epochs(config, setting):03d}"):
            for stage in STAGES:
                wc = dict(run)
                if stage not in ("rank_list", "summary"):
                    wc["epoch"] = epoch
                for space in (
                    wf.clustered_spaces(catalogue, variant) if stage == "cluster" else [""]
                ):
                    if space:
                        wc["space"] = space
                    expected = wf.stage_settings(config, catalogue, stage, wc)
                    assert plan.stage_settings(stage, wc) == expected, (stage, wc)
        start = wf.start_dir(config, setting, task, seed)[len("results/") :]
        for stage in ("extract", "evaluate"):
            assert plan.start_settings(stage, start) == wf.start_settings(config, stage, start)
        for space in ("global", "top", "bottom", "concat"):
            assert plan.start_settings("cluster", start, space) == wf.start_settings(
                config, "cluster", start, space
            )


def test_planner_answers_are_not_shared_with_the_caller():
    """What a job receives is its own: changing it leaves the next job's answer intact."""
    config, catalogue = load("config.yaml"), wf.load_variants(ROOT / "config" / "variants.yaml", {})
    plan = wf.Planner(config, catalogue)
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1", "epoch": "002"}
    first = plan.stage_settings("finetune", wc)
    first["lr_steps"].append([99, 0.5])
    first["variant"]["branches"].append("extra")
    assert plan.stage_settings("finetune", wc) == wf.stage_settings(
        config, catalogue, "finetune", wc
    )
    spaces = plan.clustered_spaces("secret")
    spaces.append("extra")
    assert plan.clustered_spaces("secret") == wf.clustered_spaces(catalogue, "secret")


def test_planner_still_rejects_unknown_experiments_every_time():
    config, catalogue = load("config.yaml"), wf.load_variants(ROOT / "config" / "variants.yaml", {})
    plan = wf.Planner(config, catalogue)
    bad = {"setting": "uda", "task": "duke2markt", "variant": "secret", "seed": "1"}
    for _ in range(2):
        with pytest.raises(UnknownTarget, match="duke2markt"):
            plan.check_experiment(bad)
    with pytest.raises(SecretError, match="unknown variant"):
        plan.variant("secrte")
