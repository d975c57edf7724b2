"""Stages that need no torch never import it: each runs in its own job, and importing torch
costs seconds and most of a GiB there (a clustering job's whole budget at demo size).

Each test starts a fresh interpreter, runs exactly the imports of the stage's workflow
script plus the thread set-up every stage goes through, and checks ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow_scripts"
TORCH_FREE = (
    "cluster",
    "pseudo_labels",
    "summarize",
    "make_table",
    "make_figure",
    "prepare_dataset",
)
NEEDS_TORCH = (
    "adapt_epochs",
    "extract",
    "finetune",
    "evaluate",
    "evaluate_epochs",
    "rank_list",
    "pretrain",
    "init_model",
    "imagenet_weights",
)


def _imports(script: Path) -> str:
    """The import statements of a workflow script, as source."""
    tree = ast.parse(script.read_text())
    nodes = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.unparse(n) for n in nodes)


def _fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter (PYTHONPATH = this checkout); it prints JSON."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_script_is_classified() -> None:
    names = {p.stem for p in SCRIPTS.glob("*.py")}
    assert names == set(TORCH_FREE) | set(NEEDS_TORCH)


@pytest.mark.parametrize("stage", TORCH_FREE)
def test_torch_free_stage_entry_path(stage: str) -> None:
    code = (
        "import json, sys\n"
        + _imports(SCRIPTS / f"{stage}.py")
        + "\nfrom secret_core.device import configure_threads\nconfigure_threads(1)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules,"
        " 'torchvision': 'torchvision' in sys.modules}))"
    )
    assert _fresh(code) == {"torch": False, "torchvision": False}


@pytest.mark.parametrize("stage", ("extract", "finetune", "evaluate"))
def test_torch_stage_entry_path_skips_scikit_learn(stage: str) -> None:
    """The per-epoch torch jobs never score labels: scikit-learn (~1.3 s) stays unloaded."""
    code = (
        "import json, sys\n"
        + _imports(SCRIPTS / f"{stage}.py")
        + "\nprint(json.dumps({'sklearn': 'sklearn' in sys.modules}))"
    )
    assert _fresh(code) == {"sklearn": False}


def test_cluster_stage_runs_without_torch(tmp_path: Path) -> None:
    """Not only the imports: a whole clustering call (faiss, Jaccard, DBSCAN) stays torch-free."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(6, 16))
    feats = np.repeat(centres, 8, axis=0) + 0.05 * rng.normal(size=(48, 16))
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    np.savez(tmp_path / "features.npz", **{b: feats for b in ("global", "top", "bottom")})
    settings = {
        "space": "global",
        "k1": 6,
        "k2": 2,
        "device": "cpu",
        "max_distance": 1.0,
        "eps": 0.6,
        "rho": 0.05,
        "min_samples": 2,
        "run": {"epoch": 1},
    }
    code = f"""
import json, sys
from types import SimpleNamespace
from secret_core.pipeline.pseudo_labels import cluster_space
from secret_core.pipeline.runner import run_stage
snakemake = SimpleNamespace(log=[{str(tmp_path / "cluster.log")!r}], threads=1, rule="cluster")
run_stage(snakemake, cluster_space, features_path={str(tmp_path / "features.npz")!r},
          eps_from=[], settings={settings!r}, labels_path={str(tmp_path / "labels.npy")!r},
          stats_path={str(tmp_path / "stats.json")!r})
print(json.dumps({{'torch': 'torch' in sys.modules, 'numba': 'numba' in sys.modules}}))
"""
    assert _fresh(code) == {"torch": False, "numba": False}  # numba: Market-size steps only
    assert np.load(tmp_path / "labels.npy").max() >= 1


def test_torch_stage_threads_are_bounded() -> None:
    """Stages that import torch still get their thread bound (set after torch is loaded)."""
    code = (
        "import json, torch\nfrom secret_core.device import configure_threads\n"
        "configure_threads(1)\nprint(json.dumps({'threads': torch.get_num_threads()}))"
    )
    assert _fresh(code) == {"threads": 1}


@pytest.mark.parametrize("numba_first", (True, False))
def test_numba_threads_are_bounded(numba_first: bool) -> None:
    """The compiled Jaccard kernel runs on the job's threads, whether numba was loaded
    before the bound (set_num_threads) or after it (NUMBA_NUM_THREADS)."""
    bound = "from secret_core.device import configure_threads\nconfigure_threads(1)\n"
    load = "import numba\n"
    code = (
        "import json\n"
        + (load + bound if numba_first else bound + load)
        + "print(json.dumps({'threads': numba.get_num_threads()}))"
    )
    assert _fresh(code) == {"threads": 1}


def test_planner_reads_the_generator_version_without_numpy() -> None:
    """The Snakefile imports the planner on every dry run: the generator's version, which
    the dataset jobs' params carry, must not load numpy and the renderer (~0.2 s)."""
    code = (
        "import json, sys\nimport secret_core.workflow\n"
        "from secret_core.synthetic.version import GENERATOR_VERSION\n"
        "print(json.dumps({'numpy': 'numpy' in sys.modules,"
        " 'renderer': 'secret_core.synthetic.render' in sys.modules}))"
    )
    assert _fresh(code) == {"numpy": False, "renderer": False}


def test_evaluate_entry_path_skips_scipy() -> None:
    """Without re-ranking an evaluate job needs no sparse matrices: secret_core.evaluation
    loads its modules on first use, which saves ~0.2 s of each evaluated epoch."""
    code = (
        "import json, sys\n"
        + _imports(SCRIPTS / "evaluate.py")
        + "\nprint(json.dumps({'scipy': 'scipy' in sys.modules}))"
    )
    assert _fresh(code) == {"scipy": False}
