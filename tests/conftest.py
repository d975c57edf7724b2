"""Shared fixtures: small datasets made by the tests themselves."""

from pathlib import Path

import pytest

MARKET_MINI = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "market1501_mini"


@pytest.fixture(scope="session")
def market_mini() -> Path:
    """The 96 real Market-1501 images shipped beside the repository (never copied in)."""
    if not MARKET_MINI.is_dir():
        pytest.skip(f"real Market-1501 sample not found at {MARKET_MINI}")
    return MARKET_MINI


@pytest.fixture(scope="session")
def tiny_domain(tmp_path_factory) -> Path:
    """A small synthetic domain on disk (Market layout)."""
    from secret_core.data import SyntheticDomainSpec, generate_domain

    out = tmp_path_factory.mktemp("domain") / "tiny"
    spec = SyntheticDomainSpec(
        name="tiny",
        style="synth_a",
        seed=3,
        num_ids=12,
        num_test_ids=6,
        num_cameras=3,
        images_per_id_per_camera=2,
        height=32,
        width=16,
    )
    generate_domain(spec, out)
    return out
