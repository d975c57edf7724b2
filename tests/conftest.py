"""Shared fixtures: small datasets made by the tests themselves."""

from pathlib import Path

import pytest

# Beside the main checkout (/work/main -> /work/shared) or a worktree (/work/wt/NAME).
_MINI_CANDIDATES = [
    Path(__file__).resolve().parents[n] / "shared" / "datasets" / "market1501_mini" for n in (2, 3)
]
MARKET_MINI = next((p for p in _MINI_CANDIDATES if p.is_dir()), _MINI_CANDIDATES[0])


@pytest.fixture(scope="session")
def market_mini() -> Path:
    """The 96 real Market-1501 images shipped beside the repository (never copied in)."""
    if not MARKET_MINI.is_dir():
        pytest.skip(f"real Market-1501 sample not found at {MARKET_MINI}")
    return MARKET_MINI


@pytest.fixture(scope="session")
def tiny_domain(tmp_path_factory) -> Path:
    """A small synthetic domain on disk (Market layout)."""
    from synthetic_specs import tiny_spec

    from secret_core.data import generate_domain

    out = tmp_path_factory.mktemp("domain") / "tiny"
    generate_domain(tiny_spec(), out)
    return out


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors gain nothing from a second thread, and on a shared 2-core machine
    OpenMP threads waiting for each other make a step 10-500x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
