"""Where mutual refinement loses the images SECRET does not train on, at a task's first epoch.

    python benchmarks/refinement_breakdown.py --results results --task market2duke duke2market
    python benchmarks/refinement_breakdown.py --configfile CFG --results DIR/results --task T

Reads the first epoch's unrefined clusterings, which every variant of a task shares, and the
target's true identities. The workflow keeps them beside the start model
(``labels_{global,top,bottom,concat}.npy``); ``diag_experiment.py`` keeps them in each
experiment's ``epoch_001`` (SECRET's three spaces, naive SECRET's concatenation). Later
epochs cluster inside the pseudo_labels job and keep only the refined labels. It prints:

* per feature space: clusters, outliers, how many identities a cluster holds on average, the
  share of clusters that mix three or more identities (Algorithm 2 drops every identity of
  such a cluster when no identity has more than K of it: three equal groups are 1/3 each);
* Algorithm 1 step by step: how many samples each elimination keeps (global by top, global
  by bottom, top by global, bottom by global), and the images that keep a label in all three
  branches, which is SECRET's training set; beside them Baseline's (clustered globally) and
  naive SECRET's (clustered on the concatenation) training sets and their accuracy;
* which global members the top and the bottom filter remove (global kept by top, by
  bottom), among the wrong ones (not their cluster's dominant identity) and the right ones:
  whether the two local spaces catch the same mistakes, or the second adds to the first.

Issue 11's diagnosis of why SECRET trains on few images: the counts say which space and
which direction of the elimination removes them; history.csv holds the per-epoch coverage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diag_experiment import load_config

import secret_core.workflow as wf
from secret_core.pipeline.datasets import open_dataset, train_ground_truth
from secret_core.refinement import clean_members, eliminate_noisy, label_accuracy
from secret_core.workflow import layout as paths

ROOT = Path(__file__).resolve().parents[1]
SPACES = ("global", "top", "bottom", "concat")


def identities_per_cluster(labels: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The number of distinct true identities in each cluster (outliers left out)."""
    clustered = labels >= 0
    pairs = np.unique(np.stack([labels[clustered], truth[clustered]]), axis=1)
    return np.bincount(pairs[0])[np.unique(pairs[0])]


def space_line(name: str, labels: np.ndarray, truth: np.ndarray) -> str:
    ids = identities_per_cluster(labels, truth)
    mixed = float(np.mean(ids >= 3)) if ids.size else float("nan")
    acc = label_accuracy(labels, truth)["accuracy"]
    return (
        f"  {name:<7} {ids.size:>8} {int(np.sum(labels < 0)):>8} {ids.mean():>11.2f}"
        f" {mixed:>12.0%} {acc:>9.3f}"
    )


def kept_line(name: str, kept: np.ndarray, labels: np.ndarray, truth: np.ndarray) -> str:
    acc = label_accuracy(np.where(kept, labels, -1), truth)["accuracy"]
    return f"  {name:<34} {int(kept.sum()):>6} {kept.mean():>7.0%} {acc:>9.3f}"


def elimination_steps(
    g: np.ndarray, t: np.ndarray, b: np.ndarray, k: float, denominator: str
) -> dict[str, np.ndarray]:
    """Algorithm 1's four eliminations as masks of the samples each keeps. All four hold
    exactly for the samples that keep a label in every refined branch (SECRET's training
    set); the test checks this against ``mutual_refine``."""
    return {
        "global kept by top": eliminate_noisy(g, t, k, denominator=denominator) >= 0,
        "global kept by bottom": eliminate_noisy(g, b, k, denominator=denominator) >= 0,
        "top kept by global": eliminate_noisy(t, g, k, denominator=denominator) >= 0,
        "bottom kept by global": eliminate_noisy(b, g, k, denominator=denominator) >= 0,
    }


def filter_removals(
    kept_by_top: np.ndarray, kept_by_bottom: np.ndarray, wrong: np.ndarray, right: np.ndarray
) -> dict[str, tuple[float, float]]:
    """Share (%) of the ``wrong`` and of the ``right`` global members (masks) that each
    local filter removes, alone and together: (wrong, right) for top, bottom, both and
    either."""
    gone_t, gone_b = ~kept_by_top, ~kept_by_bottom
    shares = {}
    for name, gone in (
        ("top", gone_t),
        ("bottom", gone_b),
        ("both", gone_t & gone_b),
        ("either", gone_t | gone_b),
    ):
        shares[name] = tuple(
            100.0 * float(gone[sel].mean()) if sel.any() else float("nan") for sel in (wrong, right)
        )
    return shares


def find_labels(config: dict, results: Path, task: str, seed: int) -> dict:
    """First-epoch labels per space: the workflow's, beside the start model, else the diag
    driver's in SECRET's and naive SECRET's first epoch folders."""
    folders = [results.parent / wf.start_target_dir(config, "uda", task, seed)]
    for variant in ("secret", "naive_secret"):
        run = paths.experiment_dir("uda", task, variant, seed).removeprefix("results/")
        folders.append(results / run / f"epoch_{paths.epoch_name(1)}")
    labels = {}
    for space in SPACES:
        for folder in folders:
            path = folder / f"labels_{space}.npy"
            if space not in labels and path.is_file():
                labels[space] = np.load(path)
    missing = [s for s in SPACES[:3] if s not in labels]
    if missing:
        raise SystemExit(
            f"no first-epoch labels_{missing[0]}.npy of {task} seed {seed} under {results}: "
            "run the task's SECRET first (snakemake or diag_experiment.py)"
        )
    return labels


def breakdown(config: dict, results: Path, task: str, seed: int, k: float, denom: str) -> None:
    """Print the tables of one task and seed."""
    target = wf.target_dataset(config, "uda", task)
    truth = train_ground_truth(open_dataset(results / "data" / target / "summary.json"))
    labels = find_labels(config, results, task, seed)
    n = truth.size
    ids = np.unique(truth).size
    print(f"\n{task}, seed {seed}, epoch 1: {n} target images, {ids} identities")
    print("  space   clusters outliers ids/cluster  >=3 ids mix  accuracy")
    for space, lab in labels.items():
        print(space_line(space, lab, truth))
    kept = elimination_steps(labels["global"], labels["top"], labels["bottom"], k, denom)
    g = labels["global"]
    print(f"  Algorithm 1 (K = {k}, denominator {denom})  images   share  accuracy")
    for name, mask in kept.items():
        print(kept_line(name, mask, g, truth))
    clustered = np.all([labels[s] >= 0 for s in SPACES[:3]], axis=0)
    print(kept_line("clustered in all three spaces", clustered, g, truth))
    print(kept_line("SECRET trains (all four kept)", np.all(list(kept.values()), axis=0), g, truth))
    print(kept_line("Baseline trains (global clustered)", g >= 0, g, truth))
    if "concat" in labels:
        print(
            kept_line(
                "naive SECRET trains (concat)", labels["concat"] >= 0, labels["concat"], truth
            )
        )
    right = clean_members(g, truth)
    wrong = (g >= 0) & ~right
    print(
        f"  global members removed by       wrong ({int(wrong.sum())})  right ({int(right.sum())})"
    )
    removals = filter_removals(
        kept["global kept by top"], kept["global kept by bottom"], wrong, right
    )
    for name, (lost_wrong, lost_right) in removals.items():
        label = {"both": "both filters", "either": "either filter"}.get(name, f"{name} filter")
        print(f"  {label:<30} {lost_wrong:>8.0f}% {lost_right:>8.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", nargs="+", default=[str(ROOT / "config" / "config.yaml")])
    parser.add_argument("--results", default="results", help="the run's results/ folder")
    parser.add_argument("--task", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    args = parser.parse_args()
    config, _ = load_config(args.configfile)
    adapt = config["adapt"]
    for task in args.task:
        for seed in args.seeds:
            breakdown(config, Path(args.results), task, seed, adapt["k"], adapt["denominator"])


if __name__ == "__main__":
    main()
