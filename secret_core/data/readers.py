"""Readers for the dataset layouts Re-ID researchers have on disk.

Layouts (file names carry the person id and the camera):

- ``market1501``: ``bounding_box_train/``, ``bounding_box_test/``, ``query/``;
  ``PPPP_cCsS_FFFFFF_NN.jpg``. pid -1 (junk) is dropped, pid 0 (distractors) stays in the
  gallery, as the standard evaluation protocol does.
- ``dukemtmc``: the same folders; ``PPPP_cC_fFFFFFFF.jpg``.
- ``msmt17``: the official release, ``train/``, ``test/`` and ``list_{train,val,query,gallery}
  .txt`` whose lines are ``relative/path.jpg pid``; train = list_train + list_val.
- ``msmt17_market``: MSMT17 repacked in Market folders (``PPPP_cC_...jpg`` names).
- ``generic``: any data in the Market folders whose names start ``PPPP_cC``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from secret_core.data.records import Record, ReidDataset
from secret_core.errors import SecretError

MARKET_DIRS = ("bounding_box_train", "bounding_box_test", "query")
MSMT_FILES = ("list_train.txt", "list_val.txt", "list_query.txt", "list_gallery.txt")
LAYOUTS: dict[str, str] = {
    "market1501": "bounding_box_train/, bounding_box_test/, query/ with PPPP_cCsS_FFFFFF_NN.jpg",
    "dukemtmc": "bounding_box_train/, bounding_box_test/, query/ with PPPP_cC_fFFFFFFF.jpg",
    "msmt17": "train/, test/, list_train.txt, list_val.txt, list_query.txt, list_gallery.txt",
    "msmt17_market": "bounding_box_train/, bounding_box_test/, query/ with MSMT17 images",
    "generic": "bounding_box_train/, bounding_box_test/, query/ with PPPP_cC*.jpg",
}
# Folder names the datasets unpack to, so a user may point at their parent folder.
CONVENTIONAL_NAMES: dict[str, tuple[str, ...]] = {
    "market1501": ("Market-1501-v15.09.15", "Market-1501", "market1501", "Market1501"),
    "dukemtmc": ("DukeMTMC-reID", "dukemtmc-reid", "DukeMTMC", "dukemtmc"),
    "msmt17": ("MSMT17_V1", "MSMT17_V2", "MSMT17", "msmt17"),
    "msmt17_market": ("MSMT17", "msmt17", "MSMT17_V1", "MSMT17_V2"),
    "generic": (),
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")

_MARKET = re.compile(r"^(-?\d+)_c(\d+)s\d+_\d+_\d+")
_DUKE = re.compile(r"^(-?\d+)_c(\d+)_f\d+")
_GENERIC = re.compile(r"^(-?\d+)_c(\d+)")


def relabel(pids: Iterable[int]) -> np.ndarray:
    """Map ids to 0..C-1 in sorted order (classifier targets need consecutive labels)."""
    values = np.asarray(list(pids) if not isinstance(pids, np.ndarray) else pids, dtype=np.int64)
    if values.size == 0:
        return values
    _, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.int64)


def _list_images(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.name.lower().endswith(IMAGE_SUFFIXES))


def _parse_folder(folder: Path, pattern: re.Pattern, keep_distractors: bool | None) -> list[Record]:
    """Records of one Market-style folder; junk (-1) dropped, distractors (0) optional.

    ``keep_distractors=None`` means id 0 is an ordinary identity (MSMT17, users' data)."""
    records = []
    for name in _list_images(folder):
        match = pattern.match(name)
        if not match:
            continue
        pid, cam = int(match.group(1)), int(match.group(2))
        if pid == -1 or (pid == 0 and keep_distractors is False):
            continue
        records.append(Record(str(folder / name), pid, cam - 1))
    return records


def _read_market_style(root: Path, layout: str, pattern: re.Pattern) -> ReidDataset:
    """Market-1501 and DukeMTMC-reID mark distractors with id 0; other data has a real id 0."""
    distractors = layout in ("market1501", "dukemtmc")
    return ReidDataset(
        name=root.name,
        root=str(root),
        layout=layout,
        train=_parse_folder(root / "bounding_box_train", pattern, False if distractors else None),
        query=_parse_folder(root / "query", pattern, False if distractors else None),
        gallery=_parse_folder(root / "bounding_box_test", pattern, True),
    )


def msmt_camera(file_name: str) -> int:
    """0-based camera of an MSMT17 image name.

    MSMT17_V1 names read ``PPPP_SSS_CC_TTTTtime_FFFF_N.jpg`` (camera = third field, 1..15);
    repacks and V2-style names carry ``_cC`` like Market; both are accepted.
    """
    match = _GENERIC.match(file_name)
    if match:
        return int(match.group(2)) - 1
    fields = Path(file_name).stem.split("_")
    if len(fields) >= 3 and fields[2].isdigit():
        return int(fields[2]) - 1
    raise SecretError(f"cannot read the camera from MSMT17 image name '{file_name}'")


def _read_msmt_list(root: Path, list_name: str, image_dir: str) -> list[Record]:
    path = root / list_name
    records = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < 2 or not parts[-1].lstrip("-").isdigit():
            raise SecretError(f"{path}:{line_no}: expected 'relative/path.jpg pid', got {line!r}")
        rel = parts[0]
        records.append(
            Record(str(root / image_dir / rel), int(parts[-1]), msmt_camera(Path(rel).name))
        )
    return records


def _read_msmt(root: Path) -> ReidDataset:
    train = _read_msmt_list(root, "list_train.txt", "train")
    train += _read_msmt_list(root, "list_val.txt", "train")
    return ReidDataset(
        name=root.name,
        root=str(root),
        layout="msmt17",
        train=train,
        query=_read_msmt_list(root, "list_query.txt", "test"),
        gallery=_read_msmt_list(root, "list_gallery.txt", "test"),
    )


READERS: dict[str, Callable[[Path], ReidDataset]] = {
    "market1501": lambda root: _read_market_style(root, "market1501", _MARKET),
    "dukemtmc": lambda root: _read_market_style(root, "dukemtmc", _DUKE),
    "msmt17": _read_msmt,
    "msmt17_market": lambda root: _read_market_style(root, "msmt17_market", _GENERIC),
    "generic": lambda root: _read_market_style(root, "generic", _GENERIC),
}


def _has_market_dirs(folder: Path) -> bool:
    return all((folder / d).is_dir() for d in MARKET_DIRS)


def _has_msmt_lists(folder: Path) -> bool:
    return (folder / "train").is_dir() and all((folder / f).is_file() for f in MSMT_FILES)


def _sniff_market_style(folder: Path) -> str:
    """Tell Market, Duke, MSMT repack and generic apart by a training image's name."""
    names = _list_images(folder / "bounding_box_train")[:50]
    if any(_MARKET.match(n) for n in names):
        return "market1501"
    if any(_DUKE.match(n) for n in names):
        return "dukemtmc"
    if "msmt" in folder.name.lower():
        return "msmt17_market"
    return "generic"


def _matches(folder: Path, layout: str) -> bool:
    if layout == "msmt17":
        return _has_msmt_lists(folder)
    return _has_market_dirs(folder)


def _candidates(root: Path, layout: str) -> list[Path]:
    names: Sequence[str]
    if layout == "auto":
        names = [n for group in CONVENTIONAL_NAMES.values() for n in group]
    else:
        names = CONVENTIONAL_NAMES[layout]
    return [root, *(root / n for n in dict.fromkeys(names))]


def resolve_layout(root: str | os.PathLike, layout: str = "auto") -> tuple[Path, str]:
    """Find the dataset folder (``root`` or a conventionally named child) and its layout.

    Only folder and list-file existence is checked (plus one folder listing to tell Market
    from Duke naming), so this is cheap enough to run before a workflow schedules any job.
    """
    base = Path(root).expanduser()
    if layout != "auto" and layout not in LAYOUTS:
        raise SecretError(
            f"unknown dataset layout '{layout}'; use auto or one of {', '.join(LAYOUTS)}"
        )
    if base.is_dir():
        for folder in _candidates(base, layout):
            if layout == "auto":
                if _has_msmt_lists(folder):
                    return folder, "msmt17"
                if _has_market_dirs(folder):
                    return folder, _sniff_market_style(folder)
            elif _matches(folder, layout):
                return folder, layout
    wanted = LAYOUTS if layout == "auto" else {layout: LAYOUTS[layout]}
    looked = "; ".join(f"{name}: {needs}" for name, needs in wanted.items())
    state = "does not exist" if not base.exists() else "holds no dataset layout"
    raise SecretError(
        f"dataset folder {base} {state}; point the config at a folder with one of these "
        f"layouts (directly or in a conventionally named subfolder): {looked}"
    )


def check_layout(root: str | os.PathLike, layout: str = "auto") -> str:
    """The layout name of the dataset under ``root``; one-line SecretError when none fits."""
    return resolve_layout(root, layout)[1]


def read_dataset(root: str | os.PathLike, layout: str = "auto") -> ReidDataset:
    """Read the train/query/gallery records of the dataset under ``root``."""
    folder, found = resolve_layout(root, layout)
    dataset = READERS[found](folder)
    if not dataset.train:
        raise SecretError(
            f"{folder}: no training images match the {found} layout ({LAYOUTS[found]})"
        )
    return dataset
