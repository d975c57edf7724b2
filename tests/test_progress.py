"""Progress in a rule's log file is whole lines (about ten per loop), a bar only on a terminal."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

from tqdm import tqdm

from secret_core import progress as progress_module
from secret_core.pipeline import runner
from secret_core.progress import LoggedProgress, progress

ROOT = Path(__file__).resolve().parents[1]


def test_log_file_gets_about_ten_whole_lines(tmp_path: Path) -> None:
    """A loop inside a stage, in a fresh interpreter whose stderr is a file (as under
    Snakemake): the rule's log holds plain lines, no carriage-return redraws."""
    log = tmp_path / "logs" / "stage.log"
    code = f"""
import sys
from pathlib import Path
from secret_core.pipeline.runner import run_logged
from secret_core.progress import progress

def stage():
    for step, _ in enumerate(progress(range(250), "epoch 1")):
        print(f"warning {{step}}", file=sys.stderr) if step == 100 else None

run_logged(stage, Path({str(log)!r}), "pretrain_source")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "stderr.txt", "w") as stderr:
        subprocess.run([sys.executable, "-c", code], env=env, stderr=stderr, check=True)
    text = log.read_text()
    assert "\r" not in text and text.endswith("\n")
    lines = [line for line in text.splitlines() if "epoch 1:" in line]
    assert len(lines) == 10, text
    assert lines[0].split("epoch 1: ")[1].startswith("25/250 (10%)")
    assert lines[-1].split("epoch 1: ")[1].startswith("250/250 (100%)")
    assert "warning 100" in text  # the rest of stderr still reaches the log


def test_small_unknown_and_early_ended_loops(caplog) -> None:
    log = logging.getLogger("test_progress")
    with caplog.at_level(logging.INFO, logger="test_progress"):
        bar = LoggedProgress(range(3), "tiny", 3, log)
        for _ in bar:
            bar.set_postfix(loss="0.123")
        assert [r.getMessage().split(",")[0] for r in caplog.records] == [
            "tiny: 1/3 (33%)",
            "tiny: 2/3 (67%)",
            "tiny: 3/3 (100%)",
        ]
        assert caplog.records[-1].getMessage().endswith("loss=0.123")
        caplog.clear()
        list(LoggedProgress((i for i in range(7)), "stream", None, log))
        assert [r.getMessage().split(",")[0] for r in caplog.records] == ["stream: 7"]
        caplog.clear()
        list(LoggedProgress(range(2), "short", 100, log))  # a loader that ran dry: say so
        assert [r.getMessage().split(",")[0] for r in caplog.records] == ["short: 2/100 (2%)"]


def test_terminal_keeps_the_bar(monkeypatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress(range(5), "epoch 1")
    assert isinstance(bar, tqdm) and bar.total == 5
    assert list(bar) == list(range(5))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress(range(5), "epoch 1"), LoggedProgress)


def test_lines_go_to_the_logger_the_runner_routes_to_the_log() -> None:
    assert runner.LOGGER_NAME == progress_module.LOGGER_NAME
