"""Run experiments of a config in one process, stage by stage, as the workflow's rules do.

    python benchmarks/diag_experiment.py --configfile CFG [OVERLAY ...] --out DIR \
        --task duke2market --variants baseline secret_mr secret secret_mt --seeds 1 2

For diagnosis and recipe work on a loaded 2-core machine: every Snakemake job pays a Python,
torch and faiss start-up of several CPU seconds, more than a tiny network's epoch stage
itself, so this driver calls the same library stage functions with the same settings
(``wf.stage_settings``) and the same file layout (``results/...`` under ``--out``)
without the per-job start-up. It evaluates every epoch and writes each experiment's
``history.csv`` and ``summary.json``; the workflow remains the way to produce the tables.
Finished files are not recomputed, so a killed run continues where it stopped.

``--oracle`` swaps the refined labels for ground truth before each fine-tuning step, to
separate what the labels get wrong from which images they select (issue 11's diagnosis):
``kept`` gives the true ids to exactly the images the variant keeps; ``images:F`` to a
random share F of the images; ``ids:F`` to every image of a random share F of identities.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import yaml

import secret_core.workflow as wf
from secret_core.device import configure_threads
from secret_core.io import load_arrays, save_arrays
from secret_core.pipeline.datasets import open_dataset, prepare_dataset, train_ground_truth
from secret_core.pipeline.evaluation_stage import evaluate_checkpoint
from secret_core.pipeline.features import extract_train_features
from secret_core.pipeline.pseudo_labels import cluster_space, label_epoch
from secret_core.pipeline.summary import summarize_experiment
from secret_core.pipeline.training import finetune_epoch, pretrain_source
from secret_core.workflow import layout as paths

ROOT = Path(__file__).resolve().parents[1]


def load_config(paths: str | list[str]) -> tuple[dict, dict]:
    """The config with the schema's defaults filled in, and the variant catalogue.

    Several files merge as ``snakemake --configfile A B`` merges them (B's keys replace A's,
    nested mappings key by key), so a probe can be an overlay on ``config/config.yaml``
    (e.g. ``benchmarks/camera_shift.yaml``) rather than a copy of it.
    """
    from snakemake.utils import update_config, validate

    config: dict = {}
    for path in [paths] if isinstance(paths, str) else paths:
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    wf.validate_config(config, ROOT / "config" / "schema.yaml", validate)
    variants = wf.load_variants(ROOT / "config" / "variants.yaml", config.get("variants", {}))
    return config, variants


def _dataset(config: dict, name: str) -> str:
    """The dataset's summary, prepared (generated, decoded to pixels) as the rule does."""
    folder = f"results/data/{name}"
    summary = f"{folder}/summary.json"
    if not Path(summary).is_file():
        settings = wf.prepare_settings(config, name)
        prepare_dataset(
            name,
            settings["entry"],
            settings["data_root"],
            summary,
            height=settings["height"],
            width=settings["width"],
            pixels_path=f"{folder}/pixels.npy",
            manifest_path=f"{folder}/files.npz",
            failures_path=f"{folder}/logs/unreadable.txt",
            generator=settings.get("generator"),
        )
    return summary


def apply_oracle(refined_path: str, target: str, branches: list[str], oracle: str, seed: int):
    """Replace the used branches' labels in ``refined_path`` by ground truth (see --oracle)."""
    refined = load_arrays(refined_path)
    truth = train_ground_truth(open_dataset(target))
    rng = np.random.default_rng(seed)
    if oracle == "kept":
        chosen = np.all([refined[b] >= 0 for b in branches], axis=0)
    elif oracle.startswith("images:"):
        chosen = rng.random(truth.size) < float(oracle.split(":")[1])
    elif oracle.startswith("ids:"):
        ids = np.unique(truth)
        chosen = np.isin(truth, ids[rng.random(ids.size) < float(oracle.split(":")[1])])
    else:
        raise SystemExit(f"--oracle {oracle!r}: use kept, images:F or ids:F")
    labels = np.where(chosen, truth, -1)
    save_arrays(refined_path, **{b: labels if b in branches else refined[b] for b in refined})


def run_experiment(
    config: dict, variants: dict, task: str, variant: str, seed: int, oracle: str | None = None
) -> None:
    """All epochs of one UDA experiment, evaluated every epoch."""
    wc = {"setting": "uda", "task": task, "variant": variant, "seed": str(seed)}
    entry = config["tasks"][task]
    target = _dataset(config, entry["target"])
    source_summary = _dataset(config, entry["source"])
    pre_dir = wf.source_model_dir(config, task, seed)
    bn_domain = Path(pre_dir).parent.name.removeprefix("bn_")
    pre_wc = {"dataset": entry["source"], "bn_domain": bn_domain, "seed": str(seed)}
    start = f"{pre_dir}/model.pt"
    if not Path(start).is_file():
        pretrain_source(
            data_summary=source_summary,
            settings=wf.stage_settings(config, variants, "pretrain", pre_wc),
            model_path=start,
            record_path=f"{pre_dir}/train.json",
            bn_summary=_dataset(config, bn_domain) if bn_domain != entry["source"] else None,
        )
    epochs = wf.num_epochs(config, "uda")
    spaces = wf.clustered_spaces(variants, variant)
    files = []
    for epoch in range(0, epochs + 1):
        ewc = {**wc, "epoch": f"{epoch:03d}"}

        def f(name: str, epoch: int = epoch) -> str:
            return paths.epoch_file(wc, epoch, name)

        model = start if epoch == 0 else f("model.pt")
        if epoch > 0 and not Path(f("train.json")).is_file():
            previous = start if epoch == 1 else f("model.pt", epoch - 1)
            settings = wf.stage_settings(config, variants, "extract", ewc)
            extract_train_features(previous, target, settings, f("features.npz"))
            firsts = [f(f"cluster_{space}.json", 1) for space in spaces]
            if epoch == 1:  # the workflow's cluster_start (shared there, per run here)
                for space, first in zip(spaces, firsts, strict=True):
                    settings = wf.stage_settings(
                        config, variants, "cluster", ewc | {"space": space}
                    )
                    cluster_space(f("features.npz"), [], settings, f(f"labels_{space}.npy"), first)
            label_epoch(
                spaces,
                firsts,
                target,
                {
                    "cluster": {}
                    if epoch == 1
                    else wf.stage_settings(config, variants, "cluster", ewc),
                    "refine": wf.stage_settings(config, variants, "refine", ewc),
                },
                f("refined.npz"),
                f("refine.json"),
                features_path=None if epoch == 1 else f("features.npz"),
                label_paths=[f(f"labels_{s}.npy") for s in spaces] if epoch == 1 else (),
            )
            if oracle:
                branches = list(variants[variant]["branches"])
                apply_oracle(f("refined.npz"), target, branches, oracle, seed * 1000 + epoch)
            settings = wf.stage_settings(config, variants, "finetune", ewc)
            finetune_epoch(
                previous,
                f("features.npz"),
                f("refined.npz"),
                target,
                settings,
                f("model.pt"),
                f("train.json"),
            )
            os.remove(f("features.npz"))
        if not Path(f("eval.json")).is_file():
            settings = wf.stage_settings(config, variants, "evaluate", ewc)
            evaluate_checkpoint(model, target, settings, f("eval.json"))
        files.append(f("eval.json"))
        if epoch > 0:
            files += [f("refine.json"), f("train.json")]
    exp = paths.epoch_file(wc, 0, "x").rsplit("/epoch_", 1)[0]
    settings = wf.stage_settings(config, variants, "summary", wc)
    settings["epochs"] = epochs
    summarize_experiment(files, settings, f"{exp}/summary.json", f"{exp}/history.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configfile",
        nargs="+",
        default=[str(ROOT / "config" / "config.yaml")],
        help="one or more YAML files, merged in order as Snakemake merges them",
    )
    parser.add_argument("--out", required=True, help="working directory (results/ goes there)")
    parser.add_argument("--task", nargs="+", required=True)
    parser.add_argument("--variants", nargs="+", default=["secret"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (as a job's)")
    parser.add_argument("--oracle", help="kept | images:F | ids:F (true labels; see above)")
    args = parser.parse_args()
    configure_threads(args.threads)
    config, variants = load_config(args.configfile)
    config["adapt"]["eval_every"] = 1
    Path(args.out).mkdir(parents=True, exist_ok=True)
    os.chdir(args.out)
    import logging

    logging.getLogger("secret").setLevel(logging.WARNING)
    for seed in args.seeds:
        for task in args.task:
            for variant in args.variants:
                t0 = time.perf_counter()
                run_experiment(config, variants, task, variant, seed, args.oracle)
                print(f"{task} {variant} seed{seed}: {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
