"""Provenance: every summary and table says which code and which settings made it."""

import csv
import json
import subprocess
from pathlib import Path

import pytest

from secret_core import provenance
from secret_core.pipeline.reports import make_table, stand_in_note
from secret_core.pipeline.summary import summarize_experiment

ROOT = Path(__file__).resolve().parents[1]


def test_hash_ignores_key_order_and_bookkeeping_keys():
    a = {"adapt": {"k": 0.4, "epochs": 2}, "seeds": [1]}
    b = {"seeds": [1], "adapt": {"epochs": 2, "k": 0.4}, provenance.CONFIG_NAME_KEY: "x.yaml"}
    assert provenance.settings_hash(a) == provenance.settings_hash(b)
    assert len(provenance.settings_hash(a)) == provenance.HASH_CHARS


def test_hash_changes_with_any_value():
    a = {"adapt": {"k": 0.4}}
    assert provenance.settings_hash(a) != provenance.settings_hash({"adapt": {"k": 0.6}})
    assert provenance.settings_hash([1, 2]) != provenance.settings_hash([2, 1])


def test_git_commit_of_a_checkout_and_of_a_plain_folder(tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True)
    if head.returncode != 0:
        pytest.skip("the workflow is not a git checkout here")
    commit = provenance.git_commit(ROOT / "workflow_scripts")
    assert commit is not None and commit.startswith(head.stdout.decode().strip())
    assert provenance.git_commit(tmp_path) is None
    assert provenance.git_commit(None) is None


def test_config_name_defaults_to_the_embedded_config():
    assert provenance.config_name([]) == "config/config.yaml"
    assert provenance.config_name(["config/paper.yaml"]) == "config/paper.yaml"


def test_provenance_block_names_version_commit_config_and_hashes(tmp_path):
    config = {"adapt": {"k": 0.4}, provenance.CONFIG_NAME_KEY: "config/paper.yaml"}
    record = provenance.provenance(config, {"k": 0.4}, workflow_dir=tmp_path)
    assert record["package_version"] == provenance.package_version()
    assert record["git_commit"] is None
    assert record["config"] == "config/paper.yaml"
    assert record["config_hash"] == provenance.settings_hash({"adapt": {"k": 0.4}})
    assert record["settings_hash"] == provenance.settings_hash({"k": 0.4})
    assert "config/paper.yaml" in provenance.describe(record)


FEATURES = {f: {"mAP": 0.5, "rank1": 0.6} for f in ("global", "top", "bottom", "joint")}
RECORD = {
    "package_version": "0.1.0",
    "git_commit": "abc123",
    "config": "config/paper.yaml",
    "config_hash": "0123456789abcdef",
    "settings_hash": "fedcba9876543210",
}


def write_experiment(folder: Path, variant: str) -> list[str]:
    paths = []
    for epoch in (0, 1):
        path = folder / variant / f"eval_{epoch}" / "eval.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"epoch": epoch, "features": FEATURES}))
        paths.append(str(path))
    return paths


def test_summary_records_provenance(tmp_path):
    settings = {"run": {"task": "t", "variant": "secret"}, "variant": {}, "epochs": 1}
    summary = tmp_path / "summary.json"
    summarize_experiment(
        write_experiment(tmp_path, "secret"),
        settings,
        str(summary),
        str(tmp_path / "history.csv"),
        provenance=RECORD,
    )
    assert json.loads(summary.read_text())["provenance"] == RECORD


def test_table_csv_rows_and_markdown_record_provenance(tmp_path):
    summaries = []
    for variant in ("secret", "secret_mt"):
        path = tmp_path / f"{variant}.json"
        path.write_text(
            json.dumps(
                {
                    "run": {"task": "duke2market", "variant": variant},
                    "start": FEATURES,
                    "final": FEATURES,
                }
            )
        )
        summaries.append(str(path))
    settings = {
        "name": "table1",
        "tasks": ["duke2market"],
        "paper_tasks": {"duke2market": None},
        "stands_in_for": {"duke2market": "duke2market"},
    }
    csv_path, md_path = tmp_path / "t.csv", tmp_path / "t.md"
    make_table(summaries, settings, str(csv_path), str(md_path), provenance=RECORD)
    with open(csv_path) as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(row["config_hash"] == RECORD["config_hash"] for row in rows)
    assert all(
        row["git_commit"] == "abc123" and row["config"] == "config/paper.yaml" for row in rows
    )
    markdown = md_path.read_text()
    assert "abc123" in markdown and "config/paper.yaml" in markdown
    assert "DukeMTMC-reID → Market-1501" in markdown
    assert "stands in for duke2market" not in markdown


def test_stand_in_note_says_the_real_task_in_words_or_nothing():
    note = stand_in_note({"duke2market": "duke2market", "market2msmt": "market2msmt"})
    assert "duke2market is a synthetic stand-in for DukeMTMC-reID → Market-1501" in note
    assert "Market-1501 → MSMT17" in note
    assert stand_in_note({"mine": "mine"}) is None
    assert stand_in_note({"a": None}) is None
    assert "my lab's cameras" in stand_in_note({"a": "my lab's cameras"})
