"""Names of the PK sampler's rules for drawing a label's positives (no torch: the workflow's
params code reads them too)."""

from __future__ import annotations

# ``other_cameras`` is the authors' RandomMultipleGallerySampler; ``spread`` is the rule this
# pipeline used before the choice became a key (see ``PKSampler``).
POSITIVES = ("other_cameras", "spread")

# What a job uses when its params name no rule. Job params leave the key out at this value,
# so that epochs finished before the key existed are not rerun for a setting they already used.
DEFAULT_POSITIVES = "spread"
