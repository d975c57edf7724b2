"""Disk needed by one adaptation run, from checkpoint and feature files written for real.

    python benchmarks/bench_disk.py --configfile config/paper.yaml

Builds the configured network with classifiers of ``--clusters`` classes per branch, saves a
checkpoint with the library's ``save_checkpoint`` with and without the mean teacher (a
checkpoint holds the weights and counters only: no optimizer state, see
``secret_core.engine.checkpoint``), and writes one epoch's feature file for ``--images`` training images. Their sizes on disk, times
the number of epochs the config keeps (``keep_checkpoints_every``), give the disk one
experiment holds at the end and at its peak (one more checkpoint and one feature file are
alive while an epoch runs). Labels and JSON records are under 1 MB per epoch and left out.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import yaml

from secret_core.engine.checkpoint import save_checkpoint
from secret_core.engine.ema import MeanTeacher
from secret_core.io import save_arrays
from secret_core.modeling import build_model
from secret_core.workflow.config_check import checkpoint_epochs

MIB = 2**20


def checkpoint_bytes(arch: str, clusters: int, mean_teacher: bool) -> int:
    """Size of one fine-tuning checkpoint as the pipeline writes it."""
    model = build_model(arch=arch, num_classes=dict.fromkeys(("global", "top", "bottom"), clusters))
    teacher = MeanTeacher(model) if mean_teacher else None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pt"
        save_checkpoint(path, model=model, teacher=teacher, epoch=1, global_step=1)
        return os.path.getsize(path)


def feature_bytes(arch: str, images: int, size: tuple[int, int]) -> int:
    """Size of one epoch's features.npz (three float32 feature matrices)."""
    model = build_model(arch=arch, num_classes=0).eval()
    with torch.inference_mode():
        feats = model(torch.randn(1, 3, *size))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.npz"
        save_arrays(
            path, **{b: np.zeros((images, f.shape[1]), np.float32) for b, f in feats.items()}
        )
        return os.path.getsize(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config/paper.yaml")
    parser.add_argument("--clusters", type=int, default=700, help="pseudo classes per branch")
    parser.add_argument("--images", type=int, nargs="+", default=[12936, 16522, 32621])
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.configfile).read_text())
    arch, size = config["model"]["arch"], (config["model"]["height"], config["model"]["width"])
    epochs = int(config["adapt"]["epochs"])
    kept, _ = checkpoint_epochs({**config, "usl_datasets": []})
    print(
        f"{args.configfile}: {arch} at {size[0]}x{size[1]}, {epochs} target epochs, "
        f"keep_checkpoints_every={config.get('keep_checkpoints_every', 1)} -> {len(kept)} kept"
    )
    print("| checkpoint | MiB each | kept at the end, MiB | all epochs kept, MiB |")
    print("|---|---|---|---|")
    sizes = {}
    for mean_teacher in (False, True):
        size_b = checkpoint_bytes(arch, args.clusters, mean_teacher)
        sizes[mean_teacher] = size_b
        name = "with mean teacher" if mean_teacher else "plain"
        print(
            f"| {name} | {size_b / MIB:.1f} | {len(kept) * size_b / MIB:.0f} | "
            f"{epochs * size_b / MIB:.0f} |"
        )
    print("\n| train images | features.npz MiB | peak of one experiment, MiB (plain / MT) |")
    print("|---|---|---|")
    for images in args.images:
        feat = feature_bytes(arch, images, size)
        peak = [(len(kept) + 1) * sizes[mt] + feat for mt in (False, True)]
        print(f"| {images} | {feat / MIB:.0f} | {peak[0] / MIB:.0f} / {peak[1] / MIB:.0f} |")


if __name__ == "__main__":
    main()
