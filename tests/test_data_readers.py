"""Dataset readers on fabricated trees of every layout, and on real Market-1501 files."""

from pathlib import Path

import numpy as np
import pytest

from secret_core.data import LAYOUTS, check_layout, read_dataset
from secret_core.data.readers import msmt_camera
from secret_core.errors import SecretError
from secret_core.refinement.labels import reindex


def touch(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def market_style(root: Path, train: list[str], query: list[str], gallery: list[str]) -> Path:
    touch(root / "bounding_box_train", train)
    touch(root / "query", query)
    touch(root / "bounding_box_test", gallery)
    return root


@pytest.fixture
def market_tree(tmp_path: Path) -> Path:
    return market_style(
        tmp_path / "Market-1501-v15.09.15",
        train=[
            "0002_c1s1_000451_03.jpg",
            "0002_c2s1_000551_01.jpg",
            "0007_c3s3_077419_03.jpg",
            "Thumbs.db",  # not an image: ignored
        ],
        query=["0002_c3s1_000801_00.jpg", "0007_c6s1_002376_00.jpg"],
        gallery=[
            "0002_c1s1_000926_01.jpg",
            "0000_c6s1_000176_03.jpg",  # distractor: kept
            "0000_c2s1_000201_01.jpg",  # distractor: kept
            "-1_c1s1_000401_03.jpg",  # junk: dropped
            "-1_c5s1_000402_02.jpg",  # junk: dropped
            "0007_c2s1_000151_01.jpg",
        ],
    )


def test_market_junk_dropped_distractors_kept_cameras_zero_based(market_tree):
    ds = read_dataset(market_tree)
    assert ds.layout == "market1501" and ds.root == str(market_tree)
    assert [(r.pid, r.camid) for r in ds.train] == [(2, 0), (2, 1), (7, 2)]
    assert [(r.pid, r.camid) for r in ds.query] == [(2, 2), (7, 5)]
    assert sorted(r.pid for r in ds.gallery) == [0, 0, 2, 7]
    assert all(Path(r.path).is_file() for r in ds.train + ds.query + ds.gallery)
    assert ds.stats() == {
        "train": {"ids": 2, "images": 3, "cameras": 3},
        "query": {"ids": 2, "images": 2, "cameras": 2},
        "gallery": {"ids": 3, "images": 4, "cameras": 3},
    }
    line = ds.summary()
    assert "\n" not in line and "train 2 ids / 3 images / 3 cams" in line
    assert "gallery 3 ids / 4 images" in line


def test_parent_folder_with_conventional_name(market_tree):
    for layout in ("market1501", "auto"):
        ds = read_dataset(market_tree.parent, layout=layout)
        assert ds.root == str(market_tree) and ds.layout == "market1501"


def test_duke_layout(tmp_path):
    root = market_style(
        tmp_path / "DukeMTMC-reID",
        train=["0001_c2_f0046182.jpg", "0001_c5_f0051341.jpg", "0003_c8_f0001234.jpg"],
        query=["0005_c2_f0046985.jpg"],
        gallery=["0005_c7_f0073545.jpg", "0019_c8_f0029447.jpg"],
    )
    ds = read_dataset(tmp_path)  # auto, from the parent
    assert ds.layout == "dukemtmc" and ds.root == str(root)
    assert [r.camid for r in ds.train] == [1, 4, 7]
    assert ds.stats()["gallery"] == {"ids": 2, "images": 2, "cameras": 2}
    assert read_dataset(root, layout="dukemtmc").stats() == ds.stats()


def write_msmt_official(root: Path, train_dir: str = "train", test_dir: str = "test") -> None:
    """A tiny MSMT17 release: V1 names, lists relative to the image folders."""
    touch(root / train_dir / "0000", ["0000_000_01_0303morning_0015_0.jpg"])
    touch(root / train_dir / "0001", ["0001_003_07_0303morning_0036_1.jpg"])
    touch(root / train_dir / "0002", ["0002_010_12_0303noon_0101_2.jpg"])
    touch(
        root / test_dir / "0000",
        ["0000_000_15_0303afternoon_0014_0.jpg", "0000_001_04_0303noon_0051_0.jpg"],
    )
    touch(root / test_dir / "0001", ["0001_004_09_0113morning_0007_1.jpg"])
    (root / "list_train.txt").write_text(
        "0000/0000_000_01_0303morning_0015_0.jpg 0\n0001/0001_003_07_0303morning_0036_1.jpg 1\n"
    )
    (root / "list_val.txt").write_text("0002/0002_010_12_0303noon_0101_2.jpg 2\n\n")
    (root / "list_query.txt").write_text("0000/0000_000_15_0303afternoon_0014_0.jpg 0\n")
    (root / "list_gallery.txt").write_text(
        "0000/0000_001_04_0303noon_0051_0.jpg 0\n0001/0001_004_09_0113morning_0007_1.jpg 1\n"
    )


@pytest.mark.parametrize(
    ("folder", "train_dir", "test_dir"),
    [("MSMT17_V1", "train", "test"), ("MSMT17_V2", "mask_train_v2", "mask_test_v2")],
)
def test_msmt_official_lists(tmp_path, folder, train_dir, test_dir):
    root = tmp_path / folder
    write_msmt_official(root, train_dir, test_dir)
    ds = read_dataset(tmp_path)
    assert ds.layout == "msmt17" and ds.root == str(root)
    # train = list_train + list_val; camera = third name field, 0-based; pid 0 is a person
    assert [(r.pid, r.camid) for r in ds.train] == [(0, 0), (1, 6), (2, 11)]
    assert [(r.pid, r.camid) for r in ds.query] == [(0, 14)]
    assert [(r.pid, r.camid) for r in ds.gallery] == [(0, 3), (1, 8)]
    assert all(Path(r.path).is_file() for r in ds.train + ds.query + ds.gallery)
    assert Path(ds.train[0].path).parent.parent.name == train_dir
    assert read_dataset(root, layout="msmt17").stats() == ds.stats()


def test_msmt_bad_list_line_names_file_and_line(tmp_path):
    write_msmt_official(tmp_path)
    (tmp_path / "list_query.txt").write_text("0000/0000_000_15_0303afternoon_0014_0.jpg\n")
    with pytest.raises(SecretError, match=r"list_query.txt:1: expected 'relative/path.jpg pid'"):
        read_dataset(tmp_path)


def test_msmt_lists_beside_wrong_folders(tmp_path):
    write_msmt_official(tmp_path)
    (tmp_path / "list_gallery.txt").write_text("0042/0042_000_01_0303morning_0001_0.jpg 42\n")
    with pytest.raises(SecretError, match=r"list_gallery\.txt: its first image .* does not exist"):
        read_dataset(tmp_path)


def test_msmt_camera_from_both_namings():
    assert msmt_camera("0000_000_01_0303morning_0015_0.jpg") == 0
    assert msmt_camera("1040_022_15_0113noon_0934_3.jpg") == 14
    assert msmt_camera("0000_c12_0001.jpg") == 11
    assert msmt_camera("0000_c3s1_000151_01.jpg") == 2
    with pytest.raises(SecretError, match="cannot read the camera"):
        msmt_camera("portrait.jpg")


def test_msmt_market_repack_keeps_pid_zero(tmp_path):
    root = market_style(
        tmp_path / "MSMT17",
        train=["0000_c1_0000.jpg", "0000_c12_0001.jpg", "0001_c3_0002.jpg"],
        query=["0000_c3_0000.jpg"],
        gallery=["0000_c4_0001.jpg", "-1_c4_0009.jpg"],
    )
    for layout in ("auto", "msmt17", "msmt17_market"):
        ds = read_dataset(root, layout=layout)
        assert ds.layout == "msmt17_market"
        assert sorted((r.pid, r.camid) for r in ds.train) == [(0, 0), (0, 11), (1, 2)]
        assert [r.pid for r in ds.query] == [0] and [r.pid for r in ds.gallery] == [0]


def test_generic_layout_follows_market_conventions(tmp_path):
    mine = market_style(
        tmp_path / "my_cameras",
        train=["0003_c2_a.jpg", "0003_c1_b.png", "0000_c1_x.jpg", "notes.txt"],
        query=["0004_c1_x.jpg"],
        gallery=["0004_c2_x.jpg", "0000_c3_y.jpg", "-1_c1_z.jpg"],
    )
    ds = read_dataset(mine)
    assert ds.layout == "generic"
    assert [(r.pid, r.camid) for r in ds.train] == [(3, 0), (3, 1)]  # 0 is a distractor
    assert sorted(r.pid for r in ds.gallery) == [0, 4]


def test_names_that_fit_no_layout_are_one_clear_error(tmp_path):
    root = market_style(
        tmp_path / "dukeish",
        train=["0001_c2_f0046182.jpg"],
        query=["0005_c2_f0046985.jpg"],
        gallery=["0005_c7_f0073545.jpg"],
    )
    with pytest.raises(SecretError) as info:
        read_dataset(root, layout="market1501")
    message = str(info.value)
    assert "\n" not in message and "bounding_box_train" in message
    assert "PPPP_cCsS_FFFFFF_NN.jpg" in message


def test_missing_dataset_is_one_line_naming_root_and_layouts(tmp_path):
    for root in (tmp_path / "nowhere", tmp_path):
        with pytest.raises(SecretError) as info:
            check_layout(root)
        message = str(info.value)
        assert "\n" not in message and str(root) in message
        for layout, needs in LAYOUTS.items():
            assert layout in message and needs in message


def test_explicit_layout_not_found_lists_only_that_layout(tmp_path):
    touch(tmp_path / "train", ["x.jpg"])
    with pytest.raises(SecretError) as info:
        read_dataset(tmp_path, layout="msmt17")
    message = str(info.value)
    assert "list_val.txt" in message and "PPPP_cC_fFFFFFFF" not in message


def test_unknown_layout_name(tmp_path):
    with pytest.raises(
        SecretError, match=r"unknown dataset layout 'market' for .*; use auto or one of"
    ):
        read_dataset(tmp_path, layout="market")


def test_parent_holding_several_datasets_needs_a_choice(tmp_path, market_tree):
    market_style(
        tmp_path / "DukeMTMC-reID",
        train=["0001_c2_f0046182.jpg"],
        query=["0005_c2_f0046985.jpg"],
        gallery=["0005_c7_f0073545.jpg"],
    )
    with pytest.raises(SecretError, match="holds several datasets"):
        read_dataset(tmp_path)
    assert read_dataset(tmp_path, layout="dukemtmc").layout == "dukemtmc"
    assert read_dataset(tmp_path, layout="market1501").root == str(market_tree)


def test_empty_training_split_is_an_error(tmp_path):
    root = market_style(tmp_path / "m", train=[], query=["0001_c1s1_000001_00.jpg"], gallery=[])
    with pytest.raises(SecretError, match="no training images"):
        read_dataset(root, layout="market1501")


def test_class_indices_are_sorted_and_consecutive():
    """Identity ids become classifier indices the one way labels are re-indexed everywhere."""
    assert reindex(np.array([7, 2, 7, 40])).tolist() == [1, 0, 1, 2]
    out = reindex(np.array([5, -1, 5, 3]))
    assert out.dtype == np.int64 and out.tolist() == [1, -1, 1, 0]
    assert reindex(np.array([], dtype=int)).size == 0


def test_real_market_sample(market_mini):
    """The reader's counts on real Market-1501 files equal those computed from the names."""
    ds = read_dataset(market_mini)
    assert ds.layout == "market1501"
    for split, folder in (
        ("train", "bounding_box_train"),
        ("query", "query"),
        ("gallery", "bounding_box_test"),
    ):
        names = sorted(p.name for p in (market_mini / folder).glob("*.jpg"))
        expected = []
        for name in names:
            pid, cam = int(name.split("_")[0]), int(name.split("_")[1][1])
            if pid == -1 or (pid == 0 and split != "gallery"):
                continue
            expected.append((name, pid, cam - 1))
        records = getattr(ds, split)
        assert [(Path(r.path).name, r.pid, r.camid) for r in records] == expected
        assert ds.stats()[split]["images"] == len(expected) > 0
