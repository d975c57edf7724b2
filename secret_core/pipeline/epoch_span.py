"""Several target epochs in one process (``epochs_per_job`` > 1).

One job per stage and epoch pays an interpreter, torch and the data for about a second of
work per stage at demo size: a demo epoch's jobs spend about 6 s starting against 6 s of
work (docs/DEMO_EFFECT.md, section 36). A span runs the same two stages, ``label_epoch`` and
``finetune_then_extract``, epoch after epoch with the same settings and the same files, so
each epoch's labels, record and kept checkpoint are the bits one job per epoch writes
(``tests/test_workflow_spans.py``). Only what the span's own next epoch reads and nobody
else keeps (a temporary checkpoint, the clustered features) goes to a scratch folder that
is cleared when the job ends.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secret_core.pipeline.pseudo_labels import label_epoch
from secret_core.pipeline.runner import get_logger
from secret_core.pipeline.training import finetune_then_extract


@dataclass(frozen=True)
class EpochFiles:
    """The files one epoch of a span writes. ``model`` or ``features`` is ``None`` when
    only the span's next epoch reads it: it then lives in the span's scratch folder."""

    epoch: int
    labels: str
    stats: str
    record: str
    model: str | None
    features: str | None


def adapt_epochs(
    model_path: str,
    features_path: str,
    first_clusters: Sequence[str],
    data_summary: str,
    epochs: Sequence[dict[str, Any]],
    files: Sequence[EpochFiles],
    label_paths: Sequence[str] = (),
) -> None:
    """Run consecutive target epochs: for each, label (cluster, refine) then fine-tune.

    ``model_path`` and ``features_path`` are what the span's first epoch starts from: the
    previous epoch's checkpoint and the features it extracted (at epoch 1, the start model's,
    whose clusterings ``label_paths`` are refined instead of clustering again). ``epochs``
    holds each epoch's settings as the one-epoch jobs get them: ``spaces``, ``cluster``,
    ``refine``, ``train`` and ``extract``.
    """
    if len(epochs) != len(files) or not files:
        raise ValueError("internal: adapt_epochs needs one settings dict per epoch's files")
    logger = get_logger()
    scratch = scratch_folder(files)
    shutil.rmtree(scratch, ignore_errors=True)  # left by a killed job of this span
    scratch.mkdir(parents=True)
    try:
        for index, (settings, out) in enumerate(zip(epochs, files, strict=True)):
            logger.info("epoch %d: pseudo labels", out.epoch)
            first = index == 0 and bool(label_paths)
            label_epoch(
                settings["spaces"],
                first_clusters,
                data_summary,
                {"cluster": settings["cluster"], "refine": settings["refine"]},
                out.labels,
                out.stats,
                features_path=None if first else features_path,
                label_paths=label_paths if first else (),
            )
            logger.info("epoch %d: fine-tuning", out.epoch)
            model_out = out.model or f"{scratch}/model_{out.epoch:03d}.pt"
            features_out = out.features or f"{scratch}/features_{out.epoch:03d}.npz"
            finetune_then_extract(
                model_path,
                features_path,
                out.labels,
                data_summary,
                settings["train"],
                model_out,
                out.record,
                settings["extract"],
                features_out,
            )
            model_path, features_path = model_out, features_out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def scratch_folder(files: Sequence[EpochFiles]) -> Path:
    """Where a span keeps what only its own next epoch reads: a hidden folder of the
    experiment, named after the span, so a rerun of a killed job finds and clears it."""
    experiment = Path(files[-1].record).parent.parent
    return experiment / f".scratch-epochs_{files[0].epoch:03d}-{files[-1].epoch:03d}"
