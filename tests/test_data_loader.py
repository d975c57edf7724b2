"""Transforms, the image dataset and the training / evaluation loaders."""

import re

import numpy as np
import pytest
import torch
from PIL import Image

from secret_core.data import (
    ImageDataset,
    RandomErasingConfig,
    Record,
    build_eval_loader,
    build_train_loader,
    build_transforms,
    read_dataset,
)
from secret_core.data.transforms import AuthorsRandomErasing, random_erasing_transform
from secret_core.errors import SecretError


@pytest.fixture(scope="module")
def train_records(tiny_domain):
    return read_dataset(tiny_domain).train


def train_loader(records, num_workers=0, seed=3, iterations=2):
    pids = np.array([r.pid for r in records])
    labels = np.stack([pids, pids, np.full_like(pids, -1)], axis=1)
    return build_train_loader(
        records,
        labels,
        pids,
        height=32,
        width=16,
        batch_size=8,
        num_instances=4,
        iterations=iterations,
        seed=seed,
        num_workers=num_workers,
        random_erasing=0.5,
    )


def test_transforms_eval_is_deterministic_and_normalised(tiny_domain):
    image = Image.open(next((tiny_domain / "query").glob("*.jpg")))
    eval_tf = build_transforms(64, 32, train=False)
    a, b = eval_tf(image), eval_tf(image)
    assert a.shape == (3, 64, 32) and a.dtype == torch.float32 and torch.equal(a, b)
    assert a.min() < 0  # ImageNet normalisation centres the values
    raw = build_transforms(64, 32, train=False, normalize=False)(image)
    assert raw.min() >= 0.0 and raw.max() <= 1.0


def test_random_erasing_only_when_asked():
    names = [type(t).__name__ for t in build_transforms(32, 16, train=True).transforms]
    assert "RandomErasing" not in names and "RandomCrop" in names and "Pad" in names
    names = [
        type(t).__name__ for t in build_transforms(32, 16, True, random_erasing=0.5).transforms
    ]
    assert names[-1] == "RandomErasing"
    names = [
        type(t).__name__ for t in build_transforms(32, 16, False, random_erasing=0.5).transforms
    ]
    assert "RandomErasing" not in names and "RandomHorizontalFlip" not in names
    with pytest.raises(SecretError, match="random_erasing must be a probability"):
        build_transforms(32, 16, True, random_erasing=2.0)


def test_image_dataset_items(train_records):
    labels = np.arange(len(train_records) * 3).reshape(-1, 3)
    labels[0, 1] = -1
    ds = ImageDataset(train_records, build_transforms(32, 16, train=False), labels)
    item = ds[0]
    assert item["images"].shape == (3, 32, 16) and item["images"].dtype == torch.float32
    assert item["labels"].dtype == torch.long and item["labels"].tolist() == [0, -1, 2]
    assert item["index"] == 0 and item["camid"] == train_records[0].camid
    no_labels = ImageDataset(train_records, build_transforms(32, 16, train=False))
    assert no_labels[1]["labels"].tolist() == [-1, -1, -1]
    with pytest.raises(SecretError, match="labels have shape"):
        ImageDataset(train_records, None, np.zeros((2, 3)))


def test_train_loader_batches(train_records):
    batch = next(iter(train_loader(train_records)))
    assert set(batch) == {"images", "labels", "index", "camid"}
    assert batch["images"].shape == (8, 3, 32, 16)
    assert batch["labels"].shape == (8, 3) and (batch["labels"][:, 2] == -1).all()
    assert batch["index"].shape == (8,) and batch["camid"].shape == (8,)
    pids = np.array([train_records[i].pid for i in batch["index"].tolist()])
    assert batch["labels"][:, 0].tolist() == pids.tolist()
    assert len(set(pids.tolist())) == 2  # P = 8 / 4 labels


def test_train_loader_reproducible_and_leaves_global_rng_alone(train_records):
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = [b["images"] for b in train_loader(train_records)]
    assert torch.equal(torch.get_rng_state(), before)  # augmentation drew privately
    torch.manual_seed(99)
    b = [b["images"] for b in train_loader(train_records)]
    c = [b["images"] for b in train_loader(train_records, seed=4)]
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_every_pass_over_a_loader_is_the_same(train_records):
    loader = train_loader(train_records)
    first = torch.cat([b["images"] for b in loader])
    assert torch.equal(first, torch.cat([b["images"] for b in loader]))


def test_train_loader_with_workers_is_reproducible(train_records):
    def run():
        return torch.cat([b["images"] for b in train_loader(train_records, num_workers=2)])

    first, second = run(), run()
    assert torch.equal(first, second)


def test_eval_loader_keeps_order(tiny_domain):
    records = read_dataset(tiny_domain).gallery
    loader = build_eval_loader(records, height=32, width=16, batch_size=4)
    batches = list(loader)
    assert torch.cat([b["index"] for b in batches]).tolist() == list(range(len(records)))
    assert torch.cat([b["camid"] for b in batches]).tolist() == [r.camid for r in records]
    again = torch.cat([b["images"] for b in loader])
    assert torch.equal(torch.cat([b["images"] for b in batches]), again)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_eval_loader_on_prepared_pixels_converts_whole_batches_as_the_per_image_path(
    num_workers,
):
    """Seven prepared images in batches of three: batches of 3, 3 and 1 in record order, with
    each image's tensor equal bit for bit to what the per-image transform makes of it."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, size=(7, 32, 16, 3), dtype=np.uint8)
    records = [Record(f"{i}.jpg", i // 2, i % 3) for i in range(7)]
    loader = build_eval_loader(
        records, height=32, width=16, batch_size=3, num_workers=num_workers, pixels=pixels
    )
    batches = list(loader)
    assert [len(b["images"]) for b in batches] == [3, 3, 1]
    assert torch.cat([b["index"] for b in batches]).tolist() == list(range(7))
    assert torch.cat([b["camid"] for b in batches]).tolist() == [i % 3 for i in range(7)]
    assert torch.cat([b["labels"] for b in batches]).eq(-1).all()
    per_image = ImageDataset(
        records, build_transforms(32, 16, train=False, prepared=True), pixels=pixels
    )
    expected = torch.stack([per_image[i]["images"] for i in range(7)])
    got = torch.cat([b["images"] for b in batches])
    assert got.dtype == torch.float32 and torch.equal(got, expected)


def test_eval_loader_refuses_pixels_of_another_record_count():
    records = [Record(f"{i}.jpg", i, 0) for i in range(3)]
    pixels = np.zeros((4, 32, 16, 3), dtype=np.uint8)
    with pytest.raises(SecretError, match="4 images for 3 records; rerun the dataset rule"):
        build_eval_loader(records, height=32, width=16, pixels=pixels)


def test_missing_image_names_the_file(tmp_path):
    records = [Record(str(tmp_path / "gone.jpg"), 1, 0)]
    ds = ImageDataset(records, build_transforms(32, 16, train=False))
    with pytest.raises(SecretError, match=r"gone\.jpg is missing"):
        ds[0]
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    ds = ImageDataset([Record(str(tmp_path / "broken.jpg"), 1, 0)], None)
    with pytest.raises(SecretError, match=r"broken\.jpg cannot be decoded"):
        ds[0]


def test_pixel_array_must_match_the_records():
    records = [Record("a.jpg", 1, 0), Record("b.jpg", 2, 0)]
    pixels = np.zeros((3, 32, 16, 3), dtype=np.uint8)
    with pytest.raises(SecretError, match=r"3 images for 2 records"):
        ImageDataset(records, build_transforms(32, 16, train=False, prepared=True), pixels=pixels)


def _erase(cfg: RandomErasingConfig, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A normalised-looking image and its erased version (the erasing step alone)."""
    torch.manual_seed(seed)
    image = torch.randn(3, 64, 32) * 0.1 + 5.0  # far from every fill value
    return image, random_erasing_transform(cfg)(image)


@pytest.mark.parametrize("draw", ["torchvision", "authors"])
def test_random_erasing_as_the_authors(draw):
    cfg = RandomErasingConfig.from_config({"p": 1.0, "draw": draw}, "adapt.random_erasing")
    step = build_transforms(64, 32, True, random_erasing=cfg).transforms[-1]
    if draw == "torchvision":
        assert (step.p, step.scale, step.ratio, step.value) == (
            1.0,
            cfg.area,
            cfg.aspect_ratio,
            [*cfg.fill],
        )
    else:
        assert isinstance(step, AuthorsRandomErasing) and step.cfg == cfg
    assert (cfg.area, cfg.aspect_ratio, cfg.fill) == (
        (0.02, 0.4),
        (0.3, 3.3333333),
        (0.485, 0.456, 0.406),
    )
    shares = []
    for seed in range(40):
        image, erased = _erase(cfg, seed)
        changed = (erased != image).any(dim=0)
        shares.append(float(changed.float().mean()))
        assert changed.any()
        for channel, value in enumerate(cfg.fill):  # exact constants, per channel
            assert torch.all(erased[channel][changed] == torch.tensor(value))
        rows, cols = torch.nonzero(changed, as_tuple=True)  # one rectangle
        h, w = int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1
        assert h * w == int(changed.sum())
    # area within 2%-40% (rounding of the rectangle's sides adds a little slack)
    assert min(shares) >= 0.02 * 0.8 and max(shares) <= 0.4 * 1.2
    assert max(shares) > 0.2  # torchvision's default (up to 33%, zeros) is not what runs


def test_authors_draw_makes_most_rectangles_tall():
    """The authors draw the height/width ratio uniformly on [0.3, 1/0.3]: P(ratio > 1) =
    (1/0.3 - 1) / (1/0.3 - 0.3) = 0.77; torchvision's log-uniform draw gives 0.5. On a square
    image (no side favoured by the fit test), 1,000 seeded rectangles of each."""
    tall = {}
    for draw in ("authors", "torchvision"):
        cfg = RandomErasingConfig(p=1.0, draw=draw)
        step = random_erasing_transform(cfg)
        torch.manual_seed(0)
        count = 0
        for _ in range(1000):
            changed = (step(torch.full((3, 200, 200), 5.0)) != 5.0).any(dim=0)
            rows, cols = torch.nonzero(changed, as_tuple=True)
            count += int(rows.max() - rows.min()) > int(cols.max() - cols.min())
        tall[draw] = count / 1000
    assert abs(tall["authors"] - 0.77) < 0.04
    assert abs(tall["torchvision"] - 0.5) < 0.05


def test_random_erasing_p_zero_and_bad_settings():
    image, untouched = _erase(RandomErasingConfig(p=0.0), 0)
    assert torch.equal(image, untouched)
    assert "RandomErasing" not in [
        type(t).__name__
        for t in build_transforms(
            32, 16, True, random_erasing=RandomErasingConfig(p=0.0)
        ).transforms
    ]
    for value, key in (
        ({"area": [0.5, 0.1]}, "adapt.random_erasing.area"),
        ({"p": 1.5}, "adapt.random_erasing.p"),
        ({"fill": [0.0]}, "adapt.random_erasing.fill"),
        ({"aspect_ratio": [2.0, 1.0]}, "adapt.random_erasing.aspect_ratio"),
        ({"scale": [0.1, 0.2]}, "adapt.random_erasing"),
    ):
        with pytest.raises(SecretError, match=re.escape(key)) as info:
            RandomErasingConfig.from_config(value, "adapt.random_erasing")
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("pad", [0, 2])
def test_training_crop_shifts_by_at_most_pad_pixels(pad):
    """The random crop of the padded image is the image moved by at most ``pad`` pixels each
    way (the config's ``model.pad``), zeros filling what moves in."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(1, 256, (8, 4, 3), dtype=np.uint8)  # no zeros: padding shows
    tf = build_transforms(8, 4, train=True, flip_p=0.0, pad=pad, normalize=False, prepared=True)
    padded = np.zeros((8 + 2 * pad, 4 + 2 * pad, 3), np.uint8)
    padded[pad : pad + 8, pad : pad + 4] = pixels
    windows = {
        (dy, dx): torch.from_numpy(padded[dy : dy + 8, dx : dx + 4]).permute(2, 0, 1) / 255.0
        for dy in range(2 * pad + 1)
        for dx in range(2 * pad + 1)
    }
    torch.manual_seed(0)
    offsets = set()
    for _ in range(40):
        out = tf(pixels)
        match = [key for key, window in windows.items() if torch.equal(out, window)]
        assert len(match) == 1
        offsets.add(match[0])
    if pad == 0:
        assert offsets == {(0, 0)}
    else:  # several shifts drawn, none beyond the padding
        assert len(offsets) > 3 and max(max(o) for o in offsets) <= 2 * pad
