"""Names of recipe rules that became config keys after runs existed (no numpy, no torch: the
workflow's params code reads them too).

Each has the authors' rule and the one this pipeline used before; a job whose params do not
name the key uses the former (``DEFAULT_*``), and job params leave the key out at that value,
so that epochs finished before the key existed are not rerun for a setting they already used.
"""

from __future__ import annotations

# Which samples define each branch's classes in a target epoch (adapt.classes; see
# secret_core.refinement.training_set). ``branch`` is the authors' generate_pseudo_dataset.
CLASSES = ("branch", "trained")
DEFAULT_CLASSES = "trained"

# When the source warm-up rises (pretrain.warmup_per; see secret_core.engine.schedule).
# ``epoch`` is the authors' WarmupMultiStepLR, stepped once per epoch.
WARMUP_PER = ("epoch", "iteration")
DEFAULT_WARMUP_PER = "iteration"

# Whether the local block learns on a detached layer4 map in source pre-training
# (pretrain.detach_local; see secret_core.modeling.secret_net). True is the authors' code and
# this pipeline's former rule alike.
DEFAULT_DETACH_LOCAL = True

# A batch-hard triplet anchor whose label has no other image in the batch (loss.triplet.
# lone_anchors; see secret_core.losses.triplet). ``self`` is the authors' _batch_hard: the
# anchor is its own hardest positive (distance ~0) and stays in the mean; ``drop`` leaves it
# out of the mean.
LONE_ANCHORS = ("self", "drop")
DEFAULT_LONE_ANCHORS = "drop"

# What the fine-tuning Adam of a target epoch starts from (adapt.optimizer_state; see
# secret_core.engine.optim). ``fresh`` is the authors' code (a new Adam every epoch) and this
# pipeline's rule alike; ``carry`` continues the moments of every parameter but the
# classifiers, which are made anew each epoch.
OPTIMIZER_STATES = ("fresh", "carry")
DEFAULT_OPTIMIZER_STATE = "fresh"
