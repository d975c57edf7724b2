"""Synthetic person domains: the procedurally rendered stand-ins for Market-1501,
DukeMTMC-reID and MSMT17 that the embedded demo runs on.

Seeded persons (clothing, proportions, accessories; identities sampled to share tops or
bottoms, the hard negatives of the paper's Figure 3), seen by cameras with their own
viewpoint, colour cast, light, blur, noise, background and occluders, written in Market-1501's
layout so the same reader as for real data opens them. ``styles`` holds the three domain
styles, ``render`` draws one image, ``domain`` samples identities and writes a dataset.

The names below load on first use (PEP 562): the workflow's planner reads only
``version.GENERATOR_VERSION`` and must not pay numpy and the renderer on every dry run.
"""

from secret_core.lazy import lazy_names

__all__ = ["DOMAIN_STYLES", "SyntheticDomainSpec", "generate_domain"]
__getattr__ = lazy_names(
    __name__,
    {"DOMAIN_STYLES": "styles", "SyntheticDomainSpec": "domain", "generate_domain": "domain"},
)
