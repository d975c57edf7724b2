"""Losses of SECRET: label-smoothed CE, batch-hard triplet and the mean teacher's soft losses."""

from secret_core.losses.classification import CrossEntropyLabelSmooth, SoftEntropy
from secret_core.losses.combined import LossConfig, compute_losses
from secret_core.losses.triplet import SoftTripletLoss, TripletLoss

__all__ = [
    "CrossEntropyLabelSmooth",
    "LossConfig",
    "SoftEntropy",
    "SoftTripletLoss",
    "TripletLoss",
    "compute_losses",
]
