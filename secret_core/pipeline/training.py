"""Training stages: source pre-training, the USL starting network, one target epoch."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from secret_core import BRANCHES
from secret_core.data import RandomErasingConfig, build_train_loader
from secret_core.data.positives import DEFAULT_BATCHES, DEFAULT_POSITIVES
from secret_core.data.sampler import (
    capped_iterations,
    iterations_per_epoch,
    pretrain_iterations_per_epoch,
)
from secret_core.data.transforms import AUTHORS_PAD
from secret_core.device import amp_enabled
from secret_core.engine import (
    adam_moments,
    build_optimizer,
    lr_function,
    restore_adam_moments,
    save_checkpoint,
    train_epoch,
)
from secret_core.engine.ema import teacher_momentum
from secret_core.errors import SecretError
from secret_core.evaluation.distance import concatenated
from secret_core.io import load_arrays, write_json
from secret_core.losses import LossConfig
from secret_core.losses.combined import CONCAT
from secret_core.modeling import compute_centroids
from secret_core.pipeline.datasets import open_dataset, split_pixels
from secret_core.pipeline.models import new_model, restore, runtime_device
from secret_core.pipeline.rules import (
    DEFAULT_CLASSES,
    DEFAULT_DETACH_LOCAL,
    DEFAULT_OPTIMIZER_STATE,
    DEFAULT_WARMUP_PER,
    OPTIMIZER_STATES,
)
from secret_core.pipeline.runner import get_logger
from secret_core.refinement.labels import reindex
from secret_core.refinement.training_set import epoch_labels
from secret_core.seeding import derive_seed, seed_everything

# Draws of each trained image per epoch above which runs lost mAP. On the 2,032-image stand-in
# (docs/DEMO_EFFECT.md, sections 50-52), first training sets drawn 68-581 times per image lost
# mAP at once: from a 12-15 mAP start they stayed far below Baseline, from a 23-25 one they
# dipped for one or two epochs and ended above it. Sets drawn 47 times or fewer rose, or
# dipped for an epoch at most. The authors' 400 x 64 draws over Market's 12,936 images are
# about 2 per target image; the demo's first SECRET sets get 4-10.
MANY_DRAWS_PER_IMAGE = 50


def pretrain_source(
    data_summary: str,
    settings: dict[str, Any],
    model_path: str,
    record_path: str,
    bn_summary: str | None = None,
    imagenet_file: str | None = None,
) -> None:
    """Supervised training on the labelled source domain (CE + triplet on all branches, as
    ``pretrain.loss`` sets them).

    With ``bn_summary`` (the task's target dataset) every iteration also forwards one batch
    of target training images in train mode, without a loss, as the authors' pre-training
    does: the weights follow the source loss alone, but BatchNorm's running statistics mix
    both domains, so the first target epoch's features (and the eps fixed from them) come
    from a network whose normalisation already fits the target.
    """
    log = get_logger()
    cfg, model_cfg = settings["pretrain"], settings["model"]
    seed = derive_seed("pretrain", settings["dataset"], settings["seed"])
    seed_everything(seed)
    device = runtime_device(settings)
    dataset = open_dataset(data_summary)
    pixels = split_pixels(data_summary, dataset, "train", model_cfg)
    pids = reindex(np.array([r.pid for r in dataset.train]))
    num_ids = int(pids.max()) + 1
    labels = np.repeat(pids[:, None], len(BRANCHES), axis=1)
    iterations = pretrain_iterations_per_epoch(
        cfg["iterations"], len(pids), cfg["batch_size"], cfg["epochs"]
    )
    log.info(
        "source %s: %d ids, %d images; %d epochs of %d iterations",
        settings["dataset"],
        num_ids,
        len(pids),
        int(cfg["epochs"]),
        iterations,
    )
    bn_images = bn_pixels = None
    if bn_summary:
        bn_dataset = open_dataset(bn_summary)
        bn_images = bn_dataset.train
        bn_pixels = split_pixels(bn_summary, bn_dataset, "train", model_cfg)
        log.info(
            "BatchNorm statistics adapted to %s (%d images)", settings["bn_domain"], len(bn_images)
        )
    model = new_model(model_cfg, {b: num_ids for b in BRANCHES}, imagenet_file).to(device)
    optimizer = build_optimizer(model, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    loss_cfg = LossConfig.from_config(cfg.get("loss"), "pretrain.loss")
    history, step = [], 0
    for epoch in range(1, int(cfg["epochs"]) + 1):
        loader_args = {
            "height": model_cfg["height"],
            "width": model_cfg["width"],
            "pad": int(model_cfg.get("pad", AUTHORS_PAD)),
            "batch_size": cfg["batch_size"],
            "iterations": iterations,
            "num_workers": settings["num_workers"],
            "random_erasing": 0.0,
        }
        loader = build_train_loader(
            dataset.train,
            labels,
            pids,
            num_instances=cfg["num_instances"],
            positives=cfg.get("positives", DEFAULT_POSITIVES),
            batches=cfg.get("batches", DEFAULT_BATCHES),
            seed=derive_seed(seed, epoch),
            pixels=pixels,
            **loader_args,
        )
        bn_batches = None
        if bn_images is not None:
            bn_batches = iter(
                build_train_loader(
                    bn_images,
                    np.full((len(bn_images), len(BRANCHES)), -1, dtype=np.int64),
                    np.arange(len(bn_images)),  # every image its own label: plain random batches
                    num_instances=1,
                    positives="spread",  # one image per label: no positives to draw
                    batches=cfg.get("batches", DEFAULT_BATCHES),  # the authors: shuffled passes
                    seed=derive_seed(seed, epoch, "bn_domain"),
                    pixels=bn_pixels,
                    **loader_args,
                )
            )
        lr_fn = lr_function(
            cfg["lr"],
            epoch,
            iterations,
            cfg["lr_steps"],
            warmup_epochs=cfg["warmup_epochs"],
            warmup_per=cfg.get("warmup_per", DEFAULT_WARMUP_PER),
        )
        stats = train_epoch(
            model,
            loader,
            optimizer,
            branches=BRANCHES,
            loss_cfg=loss_cfg,
            epoch=epoch,
            lr_fn=lr_fn,
            global_step_start=step,
            bn_adapt_batches=bn_batches,
            detach_local=bool(cfg.get("detach_local", DEFAULT_DETACH_LOCAL)),
            device=device,
            amp=amp_enabled(device, settings["amp"]),
            log=log,
        )
        step = stats["global_step_end"]
        history.append({"epoch": epoch, **_plain(stats)})
    save_checkpoint(
        model_path,
        model=model,
        epoch=0,
        global_step=0,
        extra={
            "source": settings["dataset"],
            "bn_domain": settings["bn_domain"],
            "num_ids": num_ids,
        },
    )
    write_json(
        record_path,
        {"dataset": settings["dataset"], "bn_domain": settings["bn_domain"], "epochs": history},
    )


def init_model(settings: dict[str, Any], model_path: str, imagenet_file: str | None = None) -> None:
    """The starting network of the fully unsupervised setting (ImageNet or configured init;
    ``imagenet_file`` as in ``new_model``)."""
    seed_everything(derive_seed("init", settings["seed"]))
    model = new_model(settings["model"], 0, imagenet_file)
    save_checkpoint(
        model_path,
        model=model,
        epoch=0,
        global_step=0,
        extra={"init": settings["model"].get("init", "none")},
    )


def carries_adam_moments(settings: dict[str, Any]) -> bool:
    """Whether ``adapt.optimizer_state`` is ``carry``: the epoch starts from the previous
    epoch's Adam moments (the start model holds none, so epoch 1 starts fresh) and stores
    its own (see secret_core.engine.optim)."""
    rule = settings.get("optimizer_state", DEFAULT_OPTIMIZER_STATE)
    if rule not in OPTIMIZER_STATES:
        raise SecretError(
            f"adapt.optimizer_state must be one of {', '.join(OPTIMIZER_STATES)} (fresh: the "
            f"authors'), got {rule!r}"
        )
    return rule == "carry"


def finetune_epoch(
    model_path: str,
    features_path: str,
    labels_path: str,
    data_summary: str,
    settings: dict[str, Any],
    out_model: str,
    out_record: str,
) -> None:
    """One target epoch: classifiers from refined centroids, then CE + triplet per branch
    (plus the soft terms with a mean teacher), as ``adapt.loss`` sets them."""
    log = get_logger()
    run, variant, model_cfg = settings["run"], settings["variant"], settings["model"]
    epoch = run["epoch"]
    seed = derive_seed(run["setting"], run["task"], run["variant"], run["seed"], epoch)
    seed_everything(seed)
    device = runtime_device(settings)
    mean_teacher = bool(variant["mean_teacher"])
    branches = list(variant["branches"])
    labels, class_labels = epoch_labels(
        load_arrays(labels_path), branches, settings.get("classes", DEFAULT_CLASSES)
    )
    iterations = iterations_per_epoch(settings["iterations"], len(labels), settings["batch_size"])
    momentum = 0.999
    if mean_teacher:  # "auto" scales the teacher's window with the whole run's iterations
        setting = settings.get("momentum", 0.999)
        run_iterations = iterations * int(settings["epochs"]) if setting == "auto" else 0
        momentum = teacher_momentum(setting, run_iterations)
    model, teacher, state = restore(
        model_cfg, model_path, device, with_teacher=mean_teacher, momentum=momentum
    )
    carry_moments = carries_adam_moments(settings)
    loss_cfg = LossConfig.from_config(settings.get("loss"), "adapt.loss", mean_teacher)
    erasing = RandomErasingConfig.from_config(
        settings.get("random_erasing"), "adapt.random_erasing"
    )
    features = load_arrays(features_path)
    dataset = open_dataset(data_summary)
    num_classes = {}
    for branch, centroids in classifier_weights(features, class_labels, variant).items():
        model.set_classifier(branch, centroids.to(device))
        if branch in branches:
            num_classes[branch] = int(centroids.shape[0])
            if teacher is not None:
                teacher.model.set_classifier(branch, centroids.to(device))
    trained_labels = labels[:, BRANCHES.index(branches[0])]
    trainable = int((trained_labels >= 0).sum())
    # The teacher's momentum above keeps the run's nominal length: the cap shortens epochs.
    nominal = iterations
    iterations = capped_iterations(
        nominal, trainable, settings["batch_size"], settings.get("max_draws_per_image")
    )
    log.info(
        "epoch %d: %d of %d samples train; classes %s; %d iterations%s%s",
        epoch,
        trainable,
        len(labels),
        num_classes,
        iterations,
        f" (of {nominal}: adapt.max_draws_per_image)" if iterations < nominal else "",
        f"; teacher momentum {momentum:.4f}" if mean_teacher else "",
    )
    if trainable == 0:
        # Clustering found no reliable cluster (eps too small, or K too strict): keep the
        # model as it is rather than failing the whole chain; the record says so.
        log.warning(
            "epoch %d: no sample keeps a label; the model is carried over untrained "
            "(check adapt.eps / adapt.rho and the strictness k)",
            epoch,
        )
        save_checkpoint(
            out_model,
            model=model,
            teacher=teacher,
            epoch=epoch,
            global_step=int(state.get("global_step", 0)),
            extra={"num_classes": num_classes, "skipped": True},
            adam_moments=state["adam_moments"] if carry_moments else None,
        )
        write_json(
            out_record,
            {"epoch": epoch, "trained_samples": 0, "num_samples": len(labels), "skipped": True},
        )
        return
    warn_if_training_set_too_small(trained_labels, settings, iterations, epoch)
    loader = build_train_loader(
        dataset.train,
        labels,
        labels[:, BRANCHES.index(branches[0])],
        height=model_cfg["height"],
        width=model_cfg["width"],
        pad=int(model_cfg.get("pad", AUTHORS_PAD)),
        batch_size=settings["batch_size"],
        num_instances=settings["num_instances"],
        positives=settings.get("positives", DEFAULT_POSITIVES),
        batches=settings.get("batches", DEFAULT_BATCHES),
        iterations=iterations,
        seed=derive_seed(seed, "sampler"),
        num_workers=settings["num_workers"],
        random_erasing=erasing,
        pixels=split_pixels(data_summary, dataset, "train", model_cfg),
    )
    optimizer = build_optimizer(model, lr=settings["lr"], weight_decay=settings["weight_decay"])
    if carry_moments and state["adam_moments"]:
        restored = restore_adam_moments(optimizer, model, state["adam_moments"])
        log.info("epoch %d: Adam moments of %d parameters carried over", epoch, restored)
    lr_fn = lr_function(settings["lr"], epoch, iterations, settings["lr_steps"])
    start = time.perf_counter()
    stats = train_epoch(
        model,
        loader,
        optimizer,
        branches=loss_branches(variant),
        loss_cfg=loss_cfg,
        epoch=epoch,
        lr_fn=lr_fn,
        teacher=teacher,
        global_step_start=int(state.get("global_step", 0)),
        device=device,
        amp=amp_enabled(device, settings["amp"]),
        log=log,
    )
    save_checkpoint(
        out_model,
        model=model,
        teacher=teacher,
        epoch=epoch,
        global_step=stats["global_step_end"],
        extra={"num_classes": num_classes},
        adam_moments=adam_moments(optimizer, model) if carry_moments else None,
    )
    write_json(
        out_record,
        {
            "epoch": epoch,
            "trained_samples": trainable,
            "num_samples": len(labels),
            "num_classes": num_classes,
            "samples_seen": int(stats["iterations"]) * int(settings["batch_size"]),
            "seconds": time.perf_counter() - start,
            **_plain(stats),
        },
    )


def warn_if_training_set_too_small(
    trained_labels: np.ndarray, settings: dict[str, Any], iterations: int, epoch: int
) -> None:
    """Say so in the log when the epoch's training set is too small for its iterations:
    fewer labels than one batch holds, or each image drawn more than
    ``MANY_DRAWS_PER_IMAGE`` times.

    Why: the iterations follow the target's size, not the training set's, so a refinement that
    keeps a handful of images trains every batch on those same images. From a weak start on a
    2,032-image target this took SECRET from 11.5-14.8 mAP to 4.3-4.9, while Baseline rose to
    49.6-62.7 (docs/DEMO_EFFECT.md, section 51); the line names the cause where a person
    tailing the log looks first.
    """
    log = get_logger()
    batch_size = int(settings["batch_size"])
    per_batch = batch_size // int(settings["num_instances"])
    samples = int((trained_labels >= 0).sum())
    found = int(np.unique(trained_labels[trained_labels >= 0]).size)
    if 0 < found < per_batch:
        log.warning(
            "epoch %d: the training set has %d samples in %d labels, fewer than the %d labels "
            "of a batch: %d iterations repeat them, which can undo the start model (a weak "
            "start; history.csv's trained_clusters shows it; docs/DEMO_EFFECT.md, section 51)",
            epoch,
            samples,
            found,
            per_batch,
            iterations,
        )
    draws = iterations * batch_size / samples if samples else 0.0
    if draws > MANY_DRAWS_PER_IMAGE:
        log.warning(
            "epoch %d: %d iterations of %d draw each of the %d training samples %.0f times "
            "(the iterations follow the target's size; over %d draws per image lost mAP at "
            "weak starts, and stayed low from starts under about 15 mAP: history.csv's "
            "trained_samples shows it; adapt.max_draws_per_image caps the draws; "
            "docs/DEMO_EFFECT.md, sections 51-53)",
            epoch,
            iterations,
            batch_size,
            samples,
            draws,
            MANY_DRAWS_PER_IMAGE,
        )


def classifier_weights(
    features: Mapping[str, np.ndarray], class_labels: np.ndarray, variant: Mapping[str, Any]
) -> dict[str, torch.Tensor]:
    """Each branch's classifier weight for one target epoch: the L2-normalised centroids of
    its classes, so logits start as cosine similarities (no rows for an untrained branch).

    With ``loss_on: concat`` the three classifiers act as one on the concatenated feature
    (``losses.combined.branch_output``), so they start as one, as Baseline's does on its
    feature: from the normalised centroids of the concatenation naive SECRET clusters
    (``evaluation.distance.concatenated``), split into the three blocks. Three unit-norm
    blocks would give rows of norm sqrt(3) and logits 1.7 times sharper; naive SECRET then
    ended 9.5-16 mAP below Baseline (docs/DEMO_EFFECT.md, section 31).
    """
    if loss_branches(variant) == [CONCAT]:
        joint = compute_centroids(concatenated(features), class_labels[:, BRANCHES.index("global")])
        blocks = torch.split(joint, [features[b].shape[1] for b in BRANCHES], dim=1)
        return dict(zip(BRANCHES, blocks, strict=True))
    return {
        branch: compute_centroids(features[branch], class_labels[:, col])
        if branch in variant["branches"]
        else torch.zeros(0, features[branch].shape[1])
        for col, branch in enumerate(BRANCHES)
    }


def loss_branches(variant: Mapping[str, Any]) -> list[str]:
    """What the fine-tuning losses train: each branch on its own labels, or (``loss_on:
    concat``, naive SECRET as the paper describes it) the concatenation as one feature."""
    if variant.get("loss_on", "branches") == CONCAT:
        return [CONCAT]
    return list(variant["branches"])


def _plain(stats: dict[str, Any]) -> dict[str, Any]:
    """Numbers only, as JSON-friendly floats/ints."""
    out = {}
    for key, value in stats.items():
        if isinstance(value, dict):
            out[key] = _plain(value)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            out[key] = value.item() if hasattr(value, "item") else value
    return out


def finetune_then_extract(
    model_path: str,
    features_path: str,
    labels_path: str,
    data_summary: str,
    settings: dict[str, Any],
    out_model: str,
    out_record: str,
    extract_settings: dict[str, Any],
    out_features: str,
) -> None:
    """One target epoch (``finetune_epoch``), then the features the next epoch clusters.

    Both run in one job because the extraction needs the checkpoint this job has just
    written: as its own job it paid a torch start-up (~4.5 s) and a checkpoint load for about
    a second of work at demo size, every epoch. The features come from the saved checkpoint
    through the first epoch's own extraction code, so they are the same bits a separate
    extraction job wrote. The last epoch's are kept for epochs added later (``adapt.epochs``
    raised).
    """
    from secret_core.pipeline.features import extract_train_features

    finetune_epoch(
        model_path, features_path, labels_path, data_summary, settings, out_model, out_record
    )
    extract_train_features(out_model, data_summary, extract_settings, out_features)
