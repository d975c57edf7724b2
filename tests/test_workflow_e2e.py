"""End-to-end: Snakemake runs the real rules on a micro config and writes Table 1."""

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake_cli import (
    MICRO,
    SNAKEMAKE_MARKS,
    check_epoch_outputs,
    check_table1,
    planned_jobs,
    run_snakemake,
)

# Table 1, one ablation experiment by its own path, one figure and one rank list.
TARGETS = (
    "results/table1.csv",
    "results/uda/micro/baseline/seed1/summary.json",
    "results/figures/fig6.png",
    "results/uda/micro/secret/seed1/rank_list.png",
)

pytestmark = SNAKEMAKE_MARKS
snakemake = run_snakemake


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("micro")
    result = snakemake(workdir, *TARGETS)
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


def test_table1_rows_columns_and_values(micro_run):
    check_table1(micro_run)


def test_epoch_outputs_kept_and_features_temporary(micro_run):
    check_epoch_outputs(micro_run)


def test_second_invocation_has_nothing_to_do(micro_run):
    result = snakemake(micro_run, "--dry-run", *TARGETS)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_eps_chosen_once_and_reused(micro_run):
    exp = micro_run / "results" / "uda" / "micro" / "secret" / "seed1"
    shared = micro_run / "results" / "pretrain" / "micro_src" / "bn_micro_tgt" / "seed1"
    first = json.loads((shared / "target_micro_tgt" / "cluster_global.json").read_text())
    epoch1 = json.loads((exp / "epoch_001" / "refine.json").read_text())["clusters"]
    epoch2 = json.loads((exp / "epoch_002" / "refine.json").read_text())["clusters"]
    assert epoch1["global"] == first  # epoch 1 refines the shared clustering
    second = epoch2["global"]
    assert first["eps_source"] == "chosen" and second["eps_source"] == "epoch 1"
    assert second["eps"] == first["eps"] and second["epoch"] == 2
    assert sorted(epoch2) == ["bottom", "global", "top"]  # one job clusters every space


def test_first_epoch_is_shared_by_every_variant(micro_run):
    """Epoch 0's evaluation and epoch 1's features and clusters depend on the start model
    only: one job each, beside it, read by every variant (issue: nothing runs twice)."""
    shared = micro_run / "results/pretrain/micro_src/bn_micro_tgt/seed1/target_micro_tgt"
    assert (shared / "eval.json").is_file() and (shared / "labels_top.npy").is_file()
    for variant in ("secret", "secret_mt", "baseline"):
        exp = micro_run / "results/uda/micro" / variant / "seed1"
        assert not (exp / "epoch_000").exists()
        assert not list((exp / "epoch_001").glob("labels_*.npy"))
        summary = json.loads((exp / "summary.json").read_text())
        start = json.loads((shared / "eval.json").read_text())["features"]
        assert summary["start"] == start


def test_evaluation_keeps_each_querys_ap(micro_run):
    """The final evaluation keeps every valid query's AP per feature, averaging to the mAP,
    so tables can give the paired error of a gap over queries (reporting.resolution)."""
    exp = micro_run / "results/uda/micro/secret/seed1"
    final = json.loads((exp / "summary.json").read_text())["final"]
    for feature in ("global", "top", "bottom", "joint", "concat"):
        aps = final[feature]["ap"]
        assert len(aps) > 0 and final[feature]["mAP"] == pytest.approx(np.mean(aps), abs=1e-5)


def test_ablation_and_figure_targets(micro_run):
    baseline = json.loads((micro_run / "results/uda/micro/baseline/seed1/summary.json").read_text())
    assert baseline["variant"]["branches"] == ["global"]
    refined = np.load(micro_run / "results/uda/micro/baseline/seed1/epoch_001/refined.npz")
    assert (refined["top"] == -1).all() and (refined["bottom"] == -1).all()
    assert (micro_run / "results/figures/fig6.png").stat().st_size > 1000


def test_snakemake_report_holds_tables_and_figures(micro_run):
    result = snakemake(micro_run, "--report", "results/report.html", *TARGETS)
    assert result.returncode == 0, result.stderr[-2000:]
    html = (micro_run / "results" / "report.html").read_text(errors="ignore")
    for name in ("table1.csv", "fig6.png", "curves.png", "rank_list.png"):
        assert name in html, name


def changed_config(tmp_path: Path, section: str, key: str, value) -> Path:
    config = yaml.safe_load(MICRO.read_text())
    config[section][key] = value
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_changing_eta_reruns_only_evaluations(micro_run, tmp_path):
    changed = changed_config(tmp_path, "evaluation", "eta", 0.5)
    result = snakemake(micro_run, "--dry-run", *TARGETS, configfile=changed)
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs.get("evaluate", 0) > 0
    training = {
        "pretrain_source",
        "extract_start",
        "cluster_start",
        "pseudo_labels",
        "finetune",
        "finetune_kept",
        "finetune_final",
    }
    assert not training & set(jobs), jobs


def test_changing_k_reruns_refinement_onwards_not_pretraining(micro_run, tmp_path):
    changed = changed_config(tmp_path, "adapt", "k", 0.6)
    result = snakemake(micro_run, "--dry-run", *TARGETS, configfile=changed)
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs.get("pseudo_labels", 0) > 0 and jobs.get("finetune_final", 0) > 0
    assert "pretrain_source" not in jobs and "prepare_dataset" not in jobs, jobs


def test_positives_named_at_the_former_rule_rerun_nothing(micro_run, tmp_path):
    """Runs made before ``positives`` existed used ``spread``: naming it plans no job, and the
    authors' ``other_cameras`` reruns pre-training and every fine-tuning step."""
    config = yaml.safe_load(MICRO.read_text())
    for rule, reruns in (("spread", False), ("other_cameras", True)):
        config["pretrain"]["positives"] = config["adapt"]["positives"] = rule
        path = tmp_path / f"{rule}.yaml"
        path.write_text(yaml.safe_dump(config))
        result = snakemake(micro_run, "--dry-run", *TARGETS, configfile=path)
        assert result.returncode == 0, result.stderr[-2000:]
        jobs = planned_jobs(result.stdout + result.stderr)
        if reruns:
            assert jobs.get("pretrain_source", 0) > 0 and jobs.get("finetune_final", 0) > 0, jobs
            assert "prepare_dataset" not in jobs, jobs
        else:
            assert not jobs, jobs


def test_extending_epochs_plans_only_the_new_epochs(micro_run, tmp_path):
    """adapt.epochs 2 -> 3 (the authors' scripts run 50, the paper 80): finished epochs stay."""
    changed = changed_config(tmp_path, "adapt", "epochs", 3)
    result = snakemake(micro_run, "--dry-run", *TARGETS, configfile=changed)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    jobs = planned_jobs(output)
    experiments = 3  # secret, secret_mt (Table 1) and baseline
    # epoch 3 clusters the features epoch 2 (then the last) kept: epoch 2 is not trained again
    for rule in ("pseudo_labels", "finetune_final", "evaluate", "summarize_experiment"):
        assert jobs.get(rule) == experiments, jobs
    assert {"pretrain_source", "prepare_dataset", "finetune", "finetune_kept"}.isdisjoint(jobs)
    epochs = set(re.findall(r"epoch=(\d{3})", output))
    assert epochs == {"003"}, epochs


def test_a_later_target_reuses_the_shared_first_epoch(micro_run):
    """naive SECRET clusters a space (concat) that no run before it needed: only that
    clustering and naive SECRET's own jobs run; the finished experiments are not run again."""
    target = "results/uda/micro/naive_secret/seed1/summary.json"
    result = snakemake(micro_run, "--dry-run", target)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    jobs = planned_jobs(output)
    assert jobs.get("cluster_start") == 1 and "extract_start" not in jobs, jobs
    assert "evaluate_start" not in jobs and "pretrain_source" not in jobs, jobs
    planned = set(re.findall(r"results/uda/micro/(\w+)/seed1/epoch_\d{3}/refined\.npz", output))
    assert planned == {"naive_secret"}, planned


# --------------------------------------------------------------------------- traps (issue 14)
def test_nested_number_from_the_command_line_keeps_the_other_keys(micro_run):
    """`--config 'adapt={k: 0.6}'` (as the README's K sweep shows) changes k only: the other
    adapt keys stay (Snakemake merges nested dicts), so only refinement onwards reruns."""
    result = snakemake(micro_run, "--dry-run", *TARGETS, "--config", "adapt={k: 0.6}")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs.get("pseudo_labels", 0) > 0 and jobs.get("finetune_final", 0) > 0
    assert "pretrain_source" not in jobs and "prepare_dataset" not in jobs, jobs


def test_summaries_and_tables_record_their_provenance(micro_run):
    summary = json.loads((micro_run / "results/uda/micro/secret/seed1/summary.json").read_text())
    record = summary["provenance"]
    assert record["config"] == "tests/micro_config.yaml"
    assert len(record["config_hash"]) == 16 and len(record["settings_hash"]) == 16
    assert record["package_version"]
    assert "git_commit" in record
    with open(micro_run / "results" / "table1.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {row["config_hash"] for row in rows} == {record["config_hash"]}
    assert all(row["config"] == "tests/micro_config.yaml" for row in rows)
    markdown = (micro_run / "results" / "table1.md").read_text()
    assert f"settings hash {record['config_hash']}" in markdown
