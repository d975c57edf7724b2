"""Images decoded once: the prepared array feeds the transforms the same pixels as the JPEG
path, every unreadable file is reported in one error, and later changes are noticed."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from secret_core.data import build_eval_loader, build_train_loader, read_dataset
from secret_core.data.prepared import open_split, write_pixels
from secret_core.errors import SecretError
from secret_core.io import read_json
from secret_core.pipeline.datasets import open_dataset, open_pixels, prepare_dataset


def _prepare(root: Path, out: Path, height: int, width: int) -> dict:
    dataset = read_dataset(root)
    info = write_pixels(
        dataset, height, width, out / "pixels.npy", out / "files.npz", out / "unreadable.txt"
    )
    return {"name": "t", "root": str(root), "pixels": info}, dataset


SUMMARY = "summary.json"


def _eval_images(records, height, width, pixels=None) -> torch.Tensor:
    loader = build_eval_loader(records, height=height, width=width, batch_size=16, pixels=pixels)
    return torch.cat([b["images"] for b in loader])


def _train_batches(records, height, width, pixels=None) -> list[torch.Tensor]:
    pids = np.array([r.pid for r in records])
    loader = build_train_loader(
        records,
        np.stack([pids] * 3, axis=1),
        pids,
        height=height,
        width=width,
        batch_size=8,
        num_instances=4,
        iterations=3,
        seed=7,
        random_erasing=0.5,
        pixels=pixels,
    )
    return [b["images"] for b in loader]


def _round_trip(root: Path, out: Path, height: int, width: int) -> None:
    summary, dataset = _prepare(root, out, height, width)
    for split in ("train", "query", "gallery"):
        records = getattr(dataset, split)
        pixels = open_split(summary, out / SUMMARY, split, records, height, width)
        assert torch.equal(
            _eval_images(records, height, width), _eval_images(records, height, width, pixels)
        ), f"{split} at {height}x{width}"
    records = dataset.train
    pixels = open_split(summary, out / SUMMARY, "train", records, height, width)
    old = _train_batches(records, height, width)
    new = _train_batches(records, height, width, pixels)
    assert all(torch.equal(a, b) for a, b in zip(old, new, strict=True))


@pytest.mark.parametrize(("height", "width"), [(32, 16), (64, 32), (20, 12)])
def test_synthetic_round_trip_same_pixels(tiny_domain, tmp_path, height, width):
    """Native size (no resize), upscaled and downscaled: bit-identical tensors, train too."""
    _round_trip(tiny_domain, tmp_path, height, width)


@pytest.mark.parametrize(("height", "width"), [(256, 128), (64, 32)])
def test_real_market_round_trip_same_pixels(market_mini, tmp_path, height, width):
    _round_trip(market_mini, tmp_path, height, width)


def _copy(domain: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(domain, root)
    return root


def test_corrupt_and_truncated_images_in_one_error(tiny_domain, tmp_path):
    root = _copy(tiny_domain, tmp_path)
    train = read_dataset(root).train
    corrupt, truncated = Path(train[2].path), Path(train[5].path)
    corrupt.write_bytes(b"this is not an image")
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    out = tmp_path / "prepared"
    with pytest.raises(SecretError) as err:
        _prepare(root, out, 32, 16)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("2 of ")
    assert str(corrupt) in message and str(truncated) in message
    assert str(out / "unreadable.txt") in message
    listed = (out / "unreadable.txt").read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in listed) == sorted([str(corrupt), str(truncated)])
    assert not (out / "pixels.npy").exists()
    assert not list(out.glob(".pixels*"))  # no half-written temporary left behind


def test_changed_dataset_is_noticed(tiny_domain, tmp_path):
    root = _copy(tiny_domain, tmp_path)
    out = tmp_path / "prepared"
    summary, dataset = _prepare(root, out, 32, 16)
    train = dataset.train
    open_split(summary, out / SUMMARY, "train", train, 32, 16)  # unchanged: fine
    changed = Path(train[3].path)
    changed.write_bytes(Path(train[4].path).read_bytes())
    os.utime(changed, ns=(1, 1))
    fix = "delete " + re.escape(str(out / SUMMARY)) + " and rerun"
    with pytest.raises(SecretError, match=rf"changed on disk.*{changed.name} was modified.*{fix}"):
        open_split(summary, out / SUMMARY, "train", read_dataset(root).train, 32, 16)
    open_split(
        summary, out / SUMMARY, "query", read_dataset(root).query, 32, 16
    )  # other splits fine
    Path(train[0].path).unlink()
    with pytest.raises(SecretError, match=r"train has \d+ images on disk but \d+ were prepared"):
        open_split(summary, out / SUMMARY, "train", read_dataset(root).train, 32, 16)
    with pytest.raises(SecretError, match=r"prepared at 32x16 but the model reads 64x32"):
        open_split(summary, out / SUMMARY, "query", read_dataset(root).query, 64, 32)


def test_prepare_stage_writes_the_array_and_summary(tmp_path, monkeypatch):
    from synthetic_specs import TINY

    entry = {"synthetic": {k: v for k, v in TINY.items() if k != "name"}}
    monkeypatch.chdir(tmp_path)  # relative paths, as the workflow passes them
    summary_path = Path("d") / "summary.json"
    prepare_dataset(
        "d",
        entry,
        "",
        str(summary_path),
        height=32,
        width=16,
        pixels_path="d/pixels.npy",
        manifest_path="d/files.npz",
        failures_path="d/logs/unreadable.txt",
    )
    summary = read_json(summary_path)
    total = sum(s["images"] for s in summary["stats"].values())
    # Later jobs read the dataset from the summary's (resolved) root: the check must pass.
    dataset = open_dataset(summary_path)
    pixels = open_pixels(summary_path, "gallery", dataset.gallery, 32, 16)
    assert len(pixels) == len(dataset.gallery) and pixels[0].shape == (32, 16, 3)
    array = np.load(tmp_path / "d" / "pixels.npy", mmap_mode="r")
    assert array.shape == (total, 32, 16, 3) and array.dtype == np.uint8
    assert summary["pixels"]["splits"]["gallery"][1] == total


def test_prepare_stage_refuses_params_of_another_generator(tmp_path, monkeypatch):
    """A job planned by another checkout's generator must not pass its images off as these."""
    from synthetic_specs import TINY

    from secret_core.synthetic.version import GENERATOR_VERSION

    entry = {"synthetic": {k: v for k, v in TINY.items() if k != "name"}}
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SecretError, match=f"generator version {GENERATOR_VERSION - 1}, but"):
        prepare_dataset(
            "d",
            entry,
            "",
            "d/summary.json",
            height=32,
            width=16,
            pixels_path="d/pixels.npy",
            manifest_path="d/files.npz",
            failures_path="d/logs/unreadable.txt",
            generator=GENERATOR_VERSION - 1,
        )
    assert not Path("d/summary.json").exists()
