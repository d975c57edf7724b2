"""The small synthetic domain the tests share (imported by conftest.py and by tests)."""

from secret_core.synthetic import SyntheticDomainSpec

TINY = dict(
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


def tiny_spec(**changes) -> SyntheticDomainSpec:
    """The spec of the ``tiny_domain`` fixture, with ``changes`` applied."""
    return SyntheticDomainSpec(**{**TINY, **changes})
