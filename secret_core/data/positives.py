"""Names of the PK sampler's rules: how a label's positives are drawn and how its batches are
cut (no torch: the workflow's params code reads them too)."""

from __future__ import annotations

# ``other_cameras`` is the authors' RandomMultipleGallerySampler; ``spread`` is the rule this
# pipeline used before the choice became a key (see ``PKSampler``).
POSITIVES = ("other_cameras", "spread")

# What a job uses when its params name no rule. Job params leave the key out at this value,
# so that epochs finished before the key existed are not rerun for a setting they already used.
DEFAULT_POSITIVES = "spread"

# How the label stream becomes batches. ``grid``: every batch holds P labels x K images, a
# pass's leftover labels are topped up from the next pass and a label of one image repeats it
# K times (this pipeline's rule before the choice became a key). ``passes``: the authors' --
# each pass over the labels in a random order gives K images per label, a label of one image
# that image once, and is cut into batches in order with its last partial batch dropped
# (their RandomMultipleGallerySampler under a drop_last DataLoader restarted by IterLoader).
BATCHES = ("grid", "passes")
DEFAULT_BATCHES = "grid"
