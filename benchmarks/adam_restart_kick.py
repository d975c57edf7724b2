"""How far each fine-tuning step moves the network, with a fresh Adam and with carried moments.

    python benchmarks/adam_restart_kick.py --configfile config/config.yaml \
        benchmarks/carry_optimizer_state.yaml --out DIR --task market2msmt --seed 1 --epoch 6

DIR is a ``benchmarks/diag_experiment.py`` run of SECRET with the carry overlay, so that the
checkpoint of epoch ``--epoch - 1`` holds Adam moments. The script trains epoch ``--epoch``
twice from that checkpoint, on the same refined labels and batches: once with a fresh Adam
(the authors' rule) and once with the carried moments. It prints the norm of each step's
change to every parameter but the classifiers (they are re-made each epoch), and the
epoch's total path. A fresh Adam's first step moves every weight by the full lr, so its
norm is lr x sqrt(number of weights), whatever the gradients (docs/DEMO_EFFECT.md, 37).
Nothing under DIR is changed: the two epochs are written to a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diag_experiment import _dataset, load_config

import secret_core.workflow as wf
from secret_core.device import configure_threads
from secret_core.engine.optim import CLASSIFIER_PART
from secret_core.pipeline import training
from secret_core.pipeline.features import extract_train_features
from secret_core.workflow import layout as paths


def step_norms(
    previous: str, features: str, labels: str, target: str, settings: dict, out_dir: str
) -> np.ndarray:
    """Train one epoch as the workflow's finetune job does; the norm of every step's change
    to the parameters that are not classifiers."""
    norms: list[float] = []
    build = training.build_optimizer

    def recording_optimizer(model, **kwargs):
        optimizer = build(model, **kwargs)
        watched = [p for name, p in model.named_parameters() if CLASSIFIER_PART not in name]
        before: list[torch.Tensor] = []

        def pre(*_):
            before[:] = [p.detach().clone() for p in watched]

        def post(*_):
            change = sum(
                float(((p.detach() - b) ** 2).sum()) for p, b in zip(watched, before, strict=True)
            )
            norms.append(change**0.5)

        optimizer.register_step_pre_hook(pre)
        optimizer.register_step_post_hook(post)
        return optimizer

    training.build_optimizer = recording_optimizer
    try:
        training.finetune_epoch(
            previous,
            features,
            labels,
            target,
            settings,
            f"{out_dir}/model.pt",
            f"{out_dir}/train.json",
        )
    finally:
        training.build_optimizer = build
    return np.asarray(norms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", nargs="+", required=True)
    parser.add_argument("--out", required=True, help="a diag_experiment.py run (see above)")
    parser.add_argument("--task", required=True)
    parser.add_argument("--variant", default="secret")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epoch", type=int, required=True, help="2 or later")
    args = parser.parse_args()
    configure_threads(1)
    config, variants = load_config(args.configfile)
    os.chdir(args.out)
    wc = {"setting": "uda", "task": args.task, "variant": args.variant, "seed": str(args.seed)}
    ewc = {**wc, "epoch": f"{args.epoch:03d}"}
    previous = paths.epoch_file(wc, args.epoch - 1, "model.pt")
    labels = paths.epoch_file(wc, args.epoch, "refined.npz")
    target = _dataset(config, config["tasks"][args.task]["target"])
    for needed in (previous, labels):
        if not Path(needed).is_file():
            sys.exit(f"{needed} not found: run diag_experiment.py with the carry overlay first")
    with tempfile.TemporaryDirectory() as tmp:
        features = f"{tmp}/features.npz"
        extract = wf.stage_settings(config, variants, "extract", ewc)
        extract_train_features(previous, target, extract, features)
        settings = wf.stage_settings(config, variants, "finetune", ewc)
        print(f"{args.task} {args.variant} seed {args.seed}, epoch {args.epoch}:")
        for rule in ("fresh", "carry"):
            norms = step_norms(
                previous, features, labels, target, {**settings, "optimizer_state": rule}, tmp
            )
            print(
                f"  {rule}: steps 1-5 {' '.join(f'{n:.3f}' for n in norms[:5])}; mean of steps "
                f"1-10 {norms[:10].mean():.3f}, 11-20 {norms[10:20].mean():.3f}, last 20 "
                f"{norms[-20:].mean():.3f}; path {norms.sum():.2f} over {len(norms)} steps"
            )


if __name__ == "__main__":
    main()
