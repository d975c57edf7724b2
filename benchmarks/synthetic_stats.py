"""Pseudo-label-relevant statistics of the configured synthetic domains beside real sets.

    python benchmarks/synthetic_stats.py [--configfile config/config.yaml] [--out DIR]

For each synthetic dataset of the config (generated into ``--out``, default a temporary
folder): training images and ids, images per identity, cameras per identity, share of
identities seen by 2+ cameras, share of identities that share their top / bottom with
another identity (hard negatives), and where each image's raw-pixel nearest neighbour
comes from (same id same camera = a near-duplicate frame of one tracklet), and the
cross-camera mAP of colour histograms of each half of the box (how well the upper and the
lower half identify a person with no model). Real sets are given by their published sizes
(images per identity) and, with ``--real``, by a Market-style sample folder. A real sample
also gets a table of raw-pixel nearest neighbours in which every domain is cut to the
sample's shape (identities x images per identity; capped by the smallest domain), since
those shares depend on the shape.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from secret_core.data.domain_stats import (
    camera_colour_share,
    clothing_sharing,
    half_colour_retrieval,
    identity_statistics,
    matched_pixel_neighbours,
    pixel_neighbour_statistics,
    real_reference,
)
from secret_core.data.readers import read_dataset
from secret_core.synthetic import SyntheticDomainSpec, generate_domain
from secret_core.synthetic.domain import domain_identities

COLUMNS = (
    "images",
    "ids",
    "images_per_id",
    "cameras_per_id",
    "share_ids_2plus_cameras",
    "images_per_id_per_camera",
    "share_sharing_top",
    "share_sharing_bottom",
    "other_ids_same_top",
    "nn_same_id_same_camera",
    "nn_same_id_other_camera",
    "nn_other_id",
    "camera_share_log_r_g",
    "camera_share_log_b_g",
    "camera_share_log_lightness",
    "half_map_top",
    "half_map_bottom",
    "half_top_over_bottom",
)
NEIGHBOUR_COLUMNS = ("nn_same_id_same_camera", "nn_same_id_other_camera", "nn_other_id")


Pixels = tuple[np.ndarray, list[int], list[int]]  # images, pids, camids


def domain_row(name: str, entry: dict, out: Path) -> tuple[dict[str, float], Pixels]:
    """All statistics of one synthetic domain's training split, and its pixels."""
    spec = SyntheticDomainSpec(name=name, **entry)
    ds = generate_domain(spec, out / name, workers=2)
    train = ds.train
    row = identity_statistics(train)
    people = domain_identities(spec)
    ids = sorted({r.pid for r in train})
    row.update(
        clothing_sharing([people[p - 1].top for p in ids], [people[p - 1].bottom for p in ids])
    )
    images = np.stack([np.asarray(Image.open(r.path), np.float32) for r in train])
    pids, cams = [r.pid for r in train], [r.camid for r in train]
    row.update(pixel_neighbour_statistics(images, pids, cams))
    row.update(camera_colour_share(images, cams))
    row.update(half_colour_retrieval(images, pids, cams))
    return row, (images, pids, cams)


def real_row(folder: Path, pixel_size: tuple[int, int]) -> tuple[dict[str, float], Pixels]:
    """The statistics measurable without identities' clothing, on a real Market-style folder
    (every split, since a sample may be small), and its pixels at ``pixel_size`` (PIL's
    width, height: the synthetic domains' own size, so raw-pixel neighbours compare)."""
    dataset = read_dataset(folder, "market1501")
    records = [*dataset.train, *dataset.query, *dataset.gallery]
    records = [r for r in records if r.pid > 0]  # distractors have no identity
    size = (64, 128)  # PIL's (width, height): the same scale for every image
    opened = [Image.open(r.path).convert("RGB") for r in records]
    images = np.stack([np.asarray(image.resize(size)) for image in opened])
    row = identity_statistics(records)
    pids, cams = [r.pid for r in records], [r.camid for r in records]
    row.update(camera_colour_share(images, cams))
    row.update(half_colour_retrieval(images, pids, cams))
    small = [np.asarray(image.resize(pixel_size, Image.BICUBIC), np.float32) for image in opened]
    return row, (np.stack(small), pids, cams)


def images_per_identity(pids: list[int]) -> np.ndarray:
    return np.bincount(np.unique(pids, return_inverse=True)[1])


def common_shape(sample: list[int], others: list[list[int]]) -> tuple[int, int]:
    """(identities, images per identity) that the sample and every other set can all give:
    the sample's median images per identity and the identities that have that many, each
    capped by what the smallest set holds."""
    counts = images_per_identity(sample)
    per_id = min([int(np.median(counts)), *(int(images_per_identity(p).max()) for p in others)])
    num_ids = min(int((images_per_identity(p) >= per_id).sum()) for p in [sample, *others])
    return num_ids, per_id


def neighbour_cells(stats: dict[str, float]) -> str:
    return " | ".join(f"{stats[c]:.2f}" for c in NEIGHBOUR_COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument("--out", default=None, help="where domains are generated")
    parser.add_argument(
        "--real", nargs="*", default=[], help="real Market-style folders to measure beside them"
    )
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.configfile).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        print("| domain | " + " | ".join(COLUMNS) + " |")
        print("|---" * (len(COLUMNS) + 1) + "|")
        synthetic: dict[str, Pixels] = {}
        pixel_size = (32, 64)
        for name, entry in config["datasets"].items():
            if "synthetic" not in entry:
                continue
            row, synthetic[name] = domain_row(name, entry["synthetic"], out)
            pixel_size = (entry["synthetic"]["width"], entry["synthetic"]["height"])
            print(
                f"| {name} | "
                + " | ".join(f"{row.get(c, float('nan')):.2f}" for c in COLUMNS)
                + " |"
            )
        real: dict[str, Pixels] = {}
        for folder in args.real:
            row, real[Path(folder).name] = real_row(Path(folder), pixel_size)
            cells = [f"{row[c]:.2f}" if c in row else "-" for c in COLUMNS]
            print(f"| {Path(folder).name} (real sample) | " + " | ".join(cells) + " |")
        for name, ref in real_reference().items():
            cells = [f"{ref[c]:.2f}" if c in ref else "-" for c in COLUMNS]
            print(f"| {name} (published) | " + " | ".join(cells) + " |")
        for sample, (images, pids, cams) in real.items():
            num_ids, per_id = common_shape(pids, [arrays[1] for arrays in synthetic.values()])
            print(
                f"\nRaw-pixel nearest neighbours at {pixel_size[1]}x{pixel_size[0]}, every domain "
                f"cut to {sample}'s shape ({num_ids} identities x {per_id} images, 20 draws):\n"
            )
            print("| domain | " + " | ".join(NEIGHBOUR_COLUMNS) + " |")
            print("|---" * (len(NEIGHBOUR_COLUMNS) + 1) + "|")
            for name, arrays in [*synthetic.items(), (f"{sample} (real)", (images, pids, cams))]:
                stats = matched_pixel_neighbours(*arrays, num_ids=num_ids, per_id=per_id)
                print(f"| {name} | {neighbour_cells(stats)} |")


if __name__ == "__main__":
    main()
