"""Shared fixtures: small datasets made by the tests themselves."""

import os
from pathlib import Path

import pytest

MARKET_MINI_ENV = "SECRET_MARKET_MINI"
DEFAULT_MARKET_MINI = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "market1501_mini"
)


def market_mini_path() -> Path:
    """Where the real Market-1501 sample is: ``$SECRET_MARKET_MINI``, else beside the repo."""
    return Path(os.environ.get(MARKET_MINI_ENV) or DEFAULT_MARKET_MINI).expanduser()


def market_mini_skip_reason(path: Path) -> str:
    """Why the real-data tests skip, and how a developer can run them."""
    return (
        f"real Market-1501 sample not found at {path}: 96 real Market-1501 images in the "
        "official layout (bounding_box_train/, bounding_box_test/, query/), under the "
        "dataset's research licence and so not shipped with the repository; copy such a "
        f"subset of your Market-1501 there or set {MARKET_MINI_ENV}=/path/to/it"
    )


@pytest.fixture(scope="session")
def market_mini() -> Path:
    """The 96 real Market-1501 images kept beside the repository (never copied in)."""
    path = market_mini_path()
    if not path.is_dir():
        pytest.skip(market_mini_skip_reason(path))
    return path


@pytest.fixture(scope="session")
def tiny_domain(tmp_path_factory) -> Path:
    """A small synthetic domain on disk (Market layout)."""
    from synthetic_specs import tiny_spec

    from secret_core.synthetic import generate_domain

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
