"""Synthetic person domains: the procedurally rendered stand-ins for Market-1501,
DukeMTMC-reID and MSMT17 that the embedded demo runs on.

Seeded persons (clothing, proportions, accessories; identities sampled to share tops or
bottoms, the hard negatives of the paper's Figure 3), seen by cameras with their own
viewpoint, colour cast, light, blur, noise, background and occluders, written in Market-1501's
layout so the same reader as for real data opens them. ``styles`` holds the three domain
styles, ``render`` draws one image, ``domain`` samples identities and writes a dataset.
"""

from secret_core.synthetic.domain import SyntheticDomainSpec, generate_domain
from secret_core.synthetic.styles import DOMAIN_STYLES

__all__ = ["DOMAIN_STYLES", "SyntheticDomainSpec", "generate_domain"]
