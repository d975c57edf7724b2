"""Label the target from one mean-teacher checkpoint four ways, and count what trains.

    python benchmarks/diag_teacher_features.py --configfile CFG --out DIR \
        --task duke2market --seeds 1 2 3 --epochs 3 6 9 11

A SECRET(MT) run clusters its teacher's features; plain SECRET clusters its student's. To
see whether the teacher's features themselves keep fewer images through the three-space
agreement (docs/DEMO_EFFECT.md, section 26), this takes the checkpoints of a
``secret_mt`` run made by ``diag_experiment.py`` under ``--out`` and labels the target from
the features of, in turn: the teacher; the student; the teacher's weights with the student's
BN statistics; the student's weights with the teacher's BN statistics. Each labelling uses
the run's own settings and first-epoch eps (as the next epoch's ``pseudo_labels`` job
would) and the images that keep a label in every space are counted. Nothing under ``--out``
is changed; the labels go to a temporary folder. ``--final`` also evaluates the teacher and
the student of the last epoch's checkpoint on the target's query / gallery split.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from diag_experiment import _dataset, load_config

import secret_core.workflow as wf
from secret_core.device import configure_threads
from secret_core.engine.checkpoint import load_checkpoint
from secret_core.pipeline.evaluation_stage import evaluate_checkpoint
from secret_core.pipeline.features import extract_train_features
from secret_core.pipeline.pseudo_labels import label_epoch
from secret_core.workflow import layout as paths

VARIANT = "secret_mt"
BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
SOURCES = ("teacher", "student", "teacher weights + student BN", "student weights + teacher BN")


def _mixed(weights: Mapping[str, torch.Tensor], buffers: Mapping[str, torch.Tensor]) -> dict:
    """``weights``' parameters with ``buffers``' BN running statistics."""
    return {k: (buffers[k] if k.endswith(BN_BUFFERS) else v) for k, v in weights.items()}


def _states(checkpoint: dict) -> list[dict]:
    """The four networks of :data:`SOURCES`, as model state dicts."""
    teacher, student = checkpoint["teacher"], checkpoint["model"]
    if teacher is None:
        raise SystemExit("the checkpoint has no teacher; run the secret_mt variant first")
    return [teacher, student, _mixed(teacher, student), _mixed(student, teacher)]


def count_trained(config: dict, variants: dict, task: str, seed: int, epoch: int) -> list[int]:
    """Images that keep a label in every space, labelled from ``epoch``'s checkpoint by each
    network of :data:`SOURCES` (the run's own next labelling used the teacher)."""
    target = _dataset(config, config["tasks"][task]["target"])
    wc = {"setting": "uda", "task": task, "variant": VARIANT, "seed": str(seed)}
    ewc = {**wc, "epoch": f"{epoch + 1:03d}"}
    spaces = wf.clustered_spaces(variants, VARIANT)
    firsts = [paths.epoch_file(wc, 1, f"cluster_{space}.json") for space in spaces]
    checkpoint = load_checkpoint(paths.epoch_file(wc, epoch, "model.pt"))
    extract = wf.stage_settings(config, variants, "extract", ewc) | {"mean_teacher": False}
    label_settings = {
        "cluster": wf.stage_settings(config, variants, "cluster", ewc),
        "refine": wf.stage_settings(config, variants, "refine", ewc),
    }
    counts = []
    for state in _states(checkpoint):
        with tempfile.TemporaryDirectory() as tmp:
            model = f"{tmp}/model.pt"
            torch.save({**checkpoint, "model": state, "teacher": None}, model)
            extract_train_features(model, target, extract, f"{tmp}/features.npz")
            label_epoch(
                spaces,
                firsts,
                target,
                label_settings,
                f"{tmp}/refined.npz",
                f"{tmp}/refine.json",
                features_path=f"{tmp}/features.npz",
            )
            counts.append(
                int(json.loads(Path(f"{tmp}/refine.json").read_text())["trained_samples"])
            )
    return counts


def final_maps(config: dict, variants: dict, task: str, seed: int) -> tuple[float, float]:
    """Global mAP (%) of the last epoch's teacher and student (the run evaluates the teacher)."""
    target = _dataset(config, config["tasks"][task]["target"])
    epoch = wf.num_epochs(config, "uda")
    wc = {"setting": "uda", "task": task, "variant": VARIANT, "seed": str(seed)}
    ewc = {**wc, "epoch": f"{epoch:03d}"}
    maps = []
    for teacher in (True, False):
        settings = wf.stage_settings(config, variants, "evaluate", ewc) | {"mean_teacher": teacher}
        with tempfile.TemporaryDirectory() as tmp:
            evaluate_checkpoint(
                paths.epoch_file(wc, epoch, "model.pt"), target, settings, f"{tmp}/e"
            )
            maps.append(100 * json.loads(Path(f"{tmp}/e").read_text())["features"]["global"]["mAP"])
    return maps[0], maps[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configfile", nargs="+", required=True, help="the config file(s) the run was made with"
    )
    parser.add_argument("--out", required=True, help="the diag_experiment.py working directory")
    parser.add_argument("--task", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--epochs", nargs="*", type=int, default=[3, 6, 9, 11])
    parser.add_argument(
        "--final", action="store_true", help="evaluate the last teacher and student"
    )
    args = parser.parse_args()
    configure_threads(1)
    config, variants = load_config(args.configfile)
    os.chdir(args.out)
    import logging

    logging.getLogger("secret").setLevel(logging.WARNING)
    for task in args.task:
        table = []
        for seed in args.seeds:
            if args.final:
                teacher, student = final_maps(config, variants, task, seed)
                print(f"{task} seed {seed} final mAP: teacher {teacher:.2f}, student {student:.2f}")
            for epoch in args.epochs:
                counts = count_trained(config, variants, task, seed, epoch)
                table.append(counts)
                print(
                    f"{task} seed {seed} epoch {epoch}: " + ", ".join(map(str, counts)), flush=True
                )
        if not table:
            continue
        mean = np.mean(table, axis=0)
        print(f"{task}, mean images that train:")
        for name, value in zip(SOURCES, mean, strict=True):
            print(f"  {name:32s} {value:7.1f}")


if __name__ == "__main__":
    main()
