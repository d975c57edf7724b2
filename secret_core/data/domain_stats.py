"""Statistics of a Re-ID training split that decide how pseudo labels behave.

DBSCAN with ``min_samples`` needs several images per identity, k-reciprocal neighbours need
same-identity images among each image's ``k1`` nearest, and refinement needs clusters big
enough for a K share to mean anything; near-duplicate frames of one tracklet make dense
cores, and identities that share their clothes make the hard negatives that the local
spaces disagree on. Issue 11 asked whether the synthetic domains look like the real sets in
these respects; these functions measure it on any dataset (clothing only on synthetic ones,
whose identities are known).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from secret_core.data.records import Record
from secret_core.errors import SecretError
from secret_core.evaluation.metrics import evaluate

# Published training-split sizes (SPEC.md): images / identities / cameras.
REAL_TRAIN_SPLITS: dict[str, tuple[int, int, int]] = {
    "Market-1501": (12936, 751, 6),
    "DukeMTMC-reID": (16522, 702, 8),
    "MSMT17": (32621, 1041, 15),
}


def identity_statistics(records: Sequence[Record]) -> dict[str, float]:
    """Images per identity, cameras per identity, share seen by 2+ cameras, shots per camera."""
    per_id: dict[int, list[int]] = defaultdict(list)
    for record in records:
        per_id[record.pid].append(record.camid)
    counts = np.array([len(c) for c in per_id.values()], dtype=float)
    cams = np.array([len(set(c)) for c in per_id.values()], dtype=float)
    return {
        "images": float(len(records)),
        "ids": float(len(per_id)),
        "images_per_id": float(counts.mean()) if counts.size else 0.0,
        "images_per_id_min": float(counts.min()) if counts.size else 0.0,
        "cameras_per_id": float(cams.mean()) if cams.size else 0.0,
        "share_ids_2plus_cameras": float((cams >= 2).mean()) if cams.size else 0.0,
        "images_per_id_per_camera": float((counts / np.maximum(cams, 1)).mean())
        if counts.size
        else 0.0,
    }


def clothing_sharing(tops: Sequence[Any], bottoms: Sequence[Any]) -> dict[str, float]:
    """How many identities wear the same top (or bottom) as at least one other identity.

    ``tops[i]`` and ``bottoms[i]`` are any hashable descriptions of identity i's garments.
    ``other_ids_same_top``: mean number of other identities with the same top (hard
    negatives for the top space and, through it, for the global one).
    """
    n = len(tops)
    if n == 0:
        return {"share_sharing_top": 0.0, "share_sharing_bottom": 0.0}
    top_count, bottom_count = Counter(tops), Counter(bottoms)
    same_top = np.array([top_count[t] - 1 for t in tops], dtype=float)
    same_bottom = np.array([bottom_count[b] - 1 for b in bottoms], dtype=float)
    return {
        "share_sharing_top": float((same_top > 0).mean()),
        "share_sharing_bottom": float((same_bottom > 0).mean()),
        "other_ids_same_top": float(same_top.mean()),
        "other_ids_same_bottom": float(same_bottom.mean()),
    }


def pixel_neighbour_statistics(
    images: np.ndarray, pids: Sequence[int], camids: Sequence[int]
) -> dict[str, float]:
    """Where each image's nearest other image in raw pixels comes from.

    ``images``: (N, ...) array. Each image is flattened, centred and L2-normalised; its
    nearest neighbour by cosine is "same id, same camera" (a near-duplicate frame of one
    tracklet in real data), "same id, other camera" or "other id". Real Re-ID training
    splits are sampled from tracklets, so an image's pixel-nearest image is often a frame
    of its own tracklet; independent renders have no such easy positives.
    """
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    x = x - x.mean(axis=1, keepdims=True)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(axis=1)
    pids_a, cams_a = np.asarray(pids), np.asarray(camids)
    same_id = pids_a[nearest] == pids_a
    same_cam = cams_a[nearest] == cams_a
    return {
        "nn_same_id_same_camera": float((same_id & same_cam).mean()),
        "nn_same_id_other_camera": float((same_id & ~same_cam).mean()),
        "nn_other_id": float((~same_id).mean()),
        "nn_similarity": float(sims[np.arange(len(x)), nearest].mean()),
    }


def matched_pixel_neighbours(
    images: np.ndarray,
    pids: Sequence[int],
    camids: Sequence[int],
    num_ids: int,
    per_id: int,
    draws: int = 20,
    seed: int = 0,
) -> dict[str, float]:
    """:func:`pixel_neighbour_statistics` over random subsets of ``num_ids`` identities with
    ``per_id`` images each, averaged over ``draws`` subsets.

    The share of pixel-nearest neighbours that belong to another identity grows with the
    number of identities and falls with the images per identity, so a small real sample
    (96 Market-1501 images of 32 identities) compares only with a domain cut to its shape.
    """
    by_id: dict[int, list[int]] = defaultdict(list)
    for index, pid in enumerate(pids):
        by_id[int(pid)].append(index)
    eligible = sorted(pid for pid, members in by_id.items() if len(members) >= per_id)
    if len(eligible) < num_ids:
        raise SecretError(
            f"only {len(eligible)} identities have {per_id} images, {num_ids} were asked for; "
            "draw fewer identities or fewer images per identity"
        )
    rng = np.random.default_rng(seed)
    pids_a, cams_a = np.asarray(pids), np.asarray(camids)
    rows = []
    for _ in range(draws):
        chosen = rng.choice(eligible, size=num_ids, replace=False)
        index = np.concatenate([rng.choice(by_id[p], size=per_id, replace=False) for p in chosen])
        rows.append(pixel_neighbour_statistics(images[index], pids_a[index], cams_a[index]))
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def camera_colour_share(images: np.ndarray, camids: Sequence[int]) -> dict[str, float]:
    """How much of the images' overall colour and lightness the camera decides.

    ``images``: (N, H, W, 3) pixels (any scale; only ratios matter). For each image the mean
    colour gives log(R/G), log(B/G) and log lightness; the returned share of each is its
    between-camera variance over its total variance (0: cameras look alike, 1: the camera
    alone sets it). When the camera sets most of an image's colour, an image's nearest
    neighbours are its camera's images and clusters stay within one camera; 96 real
    Market-1501 training and test images give 0.08 / 0.13 / 0.09.
    """
    pixels = np.asarray(images, dtype=np.float64).reshape(len(images), -1, 3)
    mean = pixels.mean(axis=1) + 1e-3 * max(float(pixels.max()), 1.0)
    values = {
        "camera_share_log_r_g": np.log(mean[:, 0] / mean[:, 1]),
        "camera_share_log_b_g": np.log(mean[:, 2] / mean[:, 1]),
        "camera_share_log_lightness": np.log(mean.mean(axis=1)),
    }
    cams = np.asarray(camids)
    out = {}
    for key, value in values.items():
        total = value.var()
        between = sum(
            (cams == c).sum() * (value[cams == c].mean() - value.mean()) ** 2
            for c in np.unique(cams)
        ) / len(value)
        out[key] = float(between / total) if total > 0 else 0.0
    return out


def _colour_histograms(pixels: np.ndarray) -> np.ndarray:
    """(N, h, w, 3) RGB in 0..255 -> (N, 128) square-rooted HSV histograms (8 hues x 4
    saturations x 4 values), so cosine similarity is the Hellinger affinity."""
    rgb = np.asarray(pixels, dtype=np.float64).reshape(len(pixels), -1, 3) / 255.0
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    chroma = high - low
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.select(
        [chroma == 0, high == r, high == g],
        [0.0, ((g - b) / safe) % 6.0, (b - r) / safe + 2.0],
        (r - g) / safe + 4.0,
    )
    sat = np.where(high > 0, chroma / np.where(high > 0, high, 1.0), 0.0)

    def bins(value: np.ndarray, scale: float, count: int) -> np.ndarray:
        return np.minimum((value / scale * count).astype(int), count - 1)

    index = bins(hue, 6.0, 8) * 16 + bins(sat, 1.0, 4) * 4 + bins(high, 1.0, 4)
    hist = np.stack([np.bincount(row, minlength=128) for row in index]).astype(np.float64)
    return np.sqrt(hist / hist.sum(axis=1, keepdims=True))


def cross_camera_map(features: np.ndarray, pids: Sequence[int], camids: Sequence[int]) -> float:
    """Leave-one-out mAP by cosine similarity: every image queries all others under the
    Market protocol of :func:`secret_core.evaluation.metrics.evaluate` (answers of its own
    identity in its own camera, itself included, do not count); images whose identity no
    other camera saw are skipped."""
    x = np.asarray(features, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    pid, cam = np.asarray(pids), np.asarray(camids)
    try:
        result = evaluate(-(x @ x.T), pid, pid, cam, cam)
    except SecretError:  # no image has an answer in another camera
        return float("nan")
    return float(result["mAP"])


def half_colour_retrieval(
    images: np.ndarray, pids: Sequence[int], camids: Sequence[int]
) -> dict[str, float]:
    """How well each half of a person's box identifies them, with no model: cross-camera mAP
    of colour histograms of the upper and the lower half of the image.

    SECRET's top and bottom branches pool those halves of the feature map, and its
    refinement keeps an image only where all three spaces agree, so a data set whose upper
    half identifies people much worse than its lower half starves the training set. 96 real
    Market-1501 images give a ratio (top over bottom) near 1.
    """
    pixels = np.asarray(images)
    half = pixels.shape[1] // 2
    top = cross_camera_map(_colour_histograms(pixels[:, :half]), pids, camids)
    bottom = cross_camera_map(_colour_histograms(pixels[:, half:]), pids, camids)
    return {
        "half_map_top": top,
        "half_map_bottom": bottom,
        "half_top_over_bottom": top / bottom if bottom > 0 else float("nan"),
    }


def real_reference() -> dict[str, dict[str, float]]:
    """Images per identity of the real training splits, from their published sizes."""
    return {
        name: {"images": images, "ids": ids, "cameras": cams, "images_per_id": images / ids}
        for name, (images, ids, cams) in REAL_TRAIN_SPLITS.items()
    }
