"""benchmarks/bench_epoch_overhead.py: the import floor imports what a stage's call imports
(its timings are printed by the script, never asserted: the machine is shared)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_epoch_overhead import third_party_imports  # noqa: E402


def test_third_party_imports_lists_packages_the_call_imported_and_no_stdlib_or_ours():
    spec = {
        "module": "numpy",
        "function": "zeros",
        "args": [3],
        "kwargs": {},
    }
    imported = third_party_imports(spec)
    assert "numpy" in imported
    assert "torch" not in imported  # numpy alone does not bring it
    assert not {"json", "importlib", "secret_core", "sys"} & set(imported)
    assert all(name.isidentifier() and not name.startswith("_") for name in imported)
