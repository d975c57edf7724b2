"""Dataset readers on fabricated trees of every layout and on real Market-1501 files."""

from pathlib import Path

import numpy as np
import pytest

from secret_core.data import check_layout, read_dataset, relabel
from secret_core.data.readers import msmt_camera
from secret_core.errors import SecretError


def touch(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


@pytest.fixture
def market_tree(tmp_path: Path) -> Path:
    root = tmp_path / "Market-1501-v15.09.15"
    touch(
        root / "bounding_box_train",
        [
            "0002_c1s1_000451_03.jpg",
            "0002_c2s1_000551_01.jpg",
            "0007_c3s3_077419_03.jpg",
            "Thumbs.db",
        ],
    )
    touch(root / "query", ["0002_c3s1_000801_00.jpg", "0007_c1s1_002376_00.jpg"])
    touch(
        root / "bounding_box_test",
        [
            "0002_c1s1_000926_01.jpg",
            "0000_c6s1_000176_03.jpg",
            "-1_c1s1_000401_03.jpg",
            "0007_c2s1_000151_01.jpg",
        ],
    )
    return root


def test_market_layout_counts_junk_and_distractors(market_tree):
    ds = read_dataset(market_tree)
    assert ds.layout == "market1501"
    assert len(ds.train) == 3 and {r.pid for r in ds.train} == {2, 7}
    assert len(ds.query) == 2
    gallery_pids = sorted(r.pid for r in ds.gallery)
    assert gallery_pids == [0, 2, 7]  # junk -1 dropped, distractor 0 kept
    assert ds.train[0].camid == 0  # c1 -> 0
    assert "train 2 ids / 3 images" in ds.summary()


def test_parent_folder_with_conventional_name(market_tree):
    ds = read_dataset(market_tree.parent, layout="market1501")
    assert ds.root == str(market_tree)


def test_duke_layout(tmp_path):
    root = tmp_path / "DukeMTMC-reID"
    touch(root / "bounding_box_train", ["0001_c2_f0046182.jpg", "0001_c5_f0051341.jpg"])
    touch(root / "query", ["0005_c2_f0046985.jpg"])
    touch(root / "bounding_box_test", ["0005_c7_f0073545.jpg", "0019_c8_f0029447.jpg"])
    ds = read_dataset(tmp_path)
    assert ds.layout == "dukemtmc"
    assert [r.camid for r in ds.train] == [1, 4]
    assert ds.stats()["gallery"] == {"ids": 2, "images": 2, "cameras": 2}


def test_msmt_official_lists_v1_names(tmp_path):
    root = tmp_path / "MSMT17_V1"
    touch(root / "train" / "0000", ["0000_000_01_0303morning_0015_0.jpg"])
    touch(root / "train" / "0001", ["0001_003_07_0303morning_0036_1.jpg"])
    touch(
        root / "test" / "0000",
        ["0000_000_15_0303afternoon_0014_0.jpg", "0000_001_04_0303noon_0051_0.jpg"],
    )
    (root / "list_train.txt").write_text("0000/0000_000_01_0303morning_0015_0.jpg 0\n")
    (root / "list_val.txt").write_text("0001/0001_003_07_0303morning_0036_1.jpg 1\n")
    (root / "list_query.txt").write_text("0000/0000_000_15_0303afternoon_0014_0.jpg 0\n")
    (root / "list_gallery.txt").write_text("0000/0000_001_04_0303noon_0051_0.jpg 0\n")
    ds = read_dataset(tmp_path)
    assert ds.layout == "msmt17"
    assert [(r.pid, r.camid) for r in ds.train] == [(0, 0), (1, 6)]  # train = train + val
    assert ds.query[0].camid == 14 and ds.gallery[0].camid == 3
    assert Path(ds.query[0].path).is_file()


def test_msmt_camera_from_both_namings():
    assert msmt_camera("0000_000_01_0303morning_0015_0.jpg") == 0
    assert msmt_camera("0000_c12_0001.jpg") == 11


def test_msmt_market_repack_and_generic(tmp_path):
    root = tmp_path / "MSMT17"
    touch(root / "bounding_box_train", ["0000_c1_0000.jpg", "0000_c12_0001.jpg"])
    touch(root / "query", ["0001_c3_0000.jpg"])
    touch(root / "bounding_box_test", ["0001_c4_0001.jpg"])
    ds = read_dataset(root)
    assert ds.layout == "msmt17_market"
    assert sorted(r.camid for r in ds.train) == [0, 11]
    mine = tmp_path / "mine"
    touch(mine / "bounding_box_train", ["0003_c2_x.jpg"])
    touch(mine / "query", ["0004_c1_x.jpg"])
    touch(mine / "bounding_box_test", ["0004_c2_x.jpg"])
    assert read_dataset(mine).layout == "generic"


def test_missing_dataset_is_one_line_naming_root_and_layouts(tmp_path):
    with pytest.raises(SecretError) as info:
        check_layout(tmp_path / "nowhere")
    message = str(info.value)
    assert "\n" not in message and str(tmp_path / "nowhere") in message
    for layout in ("market1501", "dukemtmc", "msmt17"):
        assert layout in message


def test_relabel_is_sorted_and_consecutive():
    assert relabel([7, 2, 7, 40]).tolist() == [1, 0, 1, 2]
    assert relabel(np.array([], dtype=int)).size == 0


def test_real_market_sample(market_mini):
    ds = read_dataset(market_mini)
    assert ds.layout == "market1501"
    for split, folder in (
        ("train", "bounding_box_train"),
        ("query", "query"),
        ("gallery", "bounding_box_test"),
    ):
        names = [p.name for p in (market_mini / folder).glob("*.jpg")]
        pids = [int(n.split("_")[0]) for n in names]
        keep = [p for p in pids if p != -1 and (split == "gallery" or p != 0)]
        records = getattr(ds, split)
        assert len(records) == len(keep)
        assert {r.pid for r in records} == set(keep)
        cams = {int(n.split("_")[1][1]) - 1 for n, p in zip(names, pids, strict=True) if p in keep}
        assert {r.camid for r in records} == cams
