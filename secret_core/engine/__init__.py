"""Training engine: epochs, feature extraction, mean teacher, lr schedule and checkpoints."""

from secret_core.engine.checkpoint import (
    CHECKPOINT_KEYS,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
)
from secret_core.engine.ema import MeanTeacher
from secret_core.engine.extract import extract_features
from secret_core.engine.optim import adam_moments, build_optimizer, restore_adam_moments, set_lr
from secret_core.engine.schedule import lr_at, lr_function
from secret_core.engine.trainer import train_epoch

__all__ = [
    "CHECKPOINT_KEYS",
    "MeanTeacher",
    "adam_moments",
    "build_optimizer",
    "extract_features",
    "load_checkpoint",
    "load_model_state",
    "lr_at",
    "lr_function",
    "restore_adam_moments",
    "save_checkpoint",
    "set_lr",
    "train_epoch",
]
