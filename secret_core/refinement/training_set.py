"""Which samples train in a target epoch, and which define each branch's classes.

A sample trains only if it keeps a refined label in every branch the variant uses (the
authors' code builds its epoch's dataset that way). Each branch's classes, the rows of its
classifier and the centroids that initialise them, come either from

- ``branch``, as the authors' ``generate_pseudo_dataset`` does: every sample that keeps a
  label in that branch, counted and averaged before the samples lacking a label elsewhere
  are dropped. A class can then have no training sample; it stays a row of the classifier
  (and of the cross-entropy's softmax), initialised from all of its members; or
- ``trained``, this pipeline's former rule: only the samples that train, so every class
  has a training sample and its centroid averages those only.

The rules' names live in ``secret_core.pipeline.rules``, which the workflow reads.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from secret_core import BRANCHES
from secret_core.errors import SecretError
from secret_core.pipeline.rules import CLASSES, DEFAULT_CLASSES
from secret_core.refinement.labels import reindex


class EpochLabels(NamedTuple):
    """(N, 3) arrays in BRANCHES order, -1 where a sample has no label.

    ``train``: the labels the losses and the sampler read (-1 outside the training set);
    ``classes``: the labels that define each branch's classes and centroids.
    """

    train: np.ndarray
    classes: np.ndarray


def check_classes(classes: str) -> str:
    if classes not in CLASSES:
        raise SecretError(
            f"adapt.classes must be one of {', '.join(CLASSES)}, got {classes!r}; "
            "branch is the authors' rule"
        )
    return classes


def epoch_labels(
    refined: dict[str, np.ndarray], branches: list[str], classes: str = DEFAULT_CLASSES
) -> EpochLabels:
    """The training labels and the class-defining labels of one epoch (module docstring).

    Both number each branch's classes 0..C-1; a trained sample has the same class in both.
    """
    check_classes(classes)
    n = len(next(iter(refined.values())))
    keep = np.ones(n, dtype=bool)
    for branch in branches:
        keep &= np.asarray(refined[branch]) >= 0
    train = np.full((n, len(BRANCHES)), -1, dtype=np.int64)
    defining = np.full((n, len(BRANCHES)), -1, dtype=np.int64)
    for col, branch in enumerate(BRANCHES):
        if branch not in branches:
            continue
        if classes == "branch":
            defining[:, col] = reindex(refined[branch])
            train[keep, col] = defining[keep, col]
        else:
            train[keep, col] = reindex(np.asarray(refined[branch])[keep])
            defining[:, col] = train[:, col]
    return EpochLabels(train=train, classes=defining)
