"""Which inference feature a table row or a figure curve reports for one experiment.

Every method ranks with the global feature (the paper's default inference), except one that
trains its three features as one concatenated feature (variant key ``loss_on: concat``):
the paper's naive SECRET, "clustering and fine-tuning work on the concatenation of global
and two local features; others are same as Baseline", ranks with that one feature as
Baseline ranks with its own. Kept apart from ``tables`` so figures need no pandas.
"""

from __future__ import annotations

from collections.abc import Mapping

# A row's feature that depends on how the variant trained (see ``ranking_feature``).
TRAINED = "trained"


def ranking_feature(summary: Mapping, feature: str) -> str:
    """``feature``, or for ``TRAINED`` the feature the experiment trained as its one
    representation: ``concat`` with ``loss_on: concat``, else ``global``."""
    if feature != TRAINED:
        return feature
    return "concat" if summary.get("variant", {}).get("loss_on") == "concat" else "global"
