"""Readers for the dataset layouts Re-ID researchers have on disk.

Every reader parses file names (or list files) only, never images, so reading the 126k
MSMT17 records takes well under a second and can run in every job.

Layouts (``LAYOUTS`` maps each name to what it needs on disk):

- ``market1501``: ``bounding_box_train/``, ``bounding_box_test/``, ``query/`` with names
  ``PPPP_cCsS_FFFFFF_NN.jpg``. pid -1 (junk) is dropped everywhere; pid 0 (distractors) is
  kept in the gallery only, as the standard evaluation protocol does.
- ``dukemtmc``: the same folders with ``PPPP_cC_fFFFFFFF.jpg``; same -1/0 rules.
- ``msmt17``: the official release. ``list_train.txt``, ``list_val.txt``, ``list_query.txt``
  and ``list_gallery.txt`` hold lines ``relative/path.jpg pid``; the paths are relative to
  ``train/`` and ``test/`` (MSMT17_V1) or ``mask_train_v2/`` and ``mask_test_v2/``
  (MSMT17_V2, the face-blurred re-release; same names and lists). Train = list_train +
  list_val (the standard protocol: 1,041 ids / 32,621 images). The camera is the third
  ``_`` field of the file name (``0000_000_01_0303morning_0015_0.jpg`` -> camera 1 of 15).
  Asked for ``msmt17``, a folder in the Market-style repack is read as ``msmt17_market``.
- ``msmt17_market``: MSMT17 repacked into the Market folders with ``PPPP_cC...`` names. Its
  pid 0 is a real identity (MSMT17 counts from 0); only -1 is dropped.
- ``generic``: users' own data in the Market folders, names starting ``PPPP_cC``; Market's
  conventions apply (-1 junk dropped, 0 distractors kept in the gallery only).

A user may point at the dataset folder itself or at a parent holding it under its
conventional name (``Market-1501-v15.09.15``, ``DukeMTMC-reID``, ``MSMT17_V1``, ...).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from secret_core.data.records import Record, ReidDataset
from secret_core.errors import SecretError

MARKET_DIRS: tuple[str, str, str] = ("bounding_box_train", "bounding_box_test", "query")
MSMT_LISTS: tuple[str, str, str, str] = (
    "list_train.txt",
    "list_val.txt",
    "list_query.txt",
    "list_gallery.txt",
)
# (train folder, test folder) of the official MSMT17 releases, V1 first.
MSMT_IMAGE_DIRS: tuple[tuple[str, str], ...] = (
    ("train", "test"),
    ("mask_train_v2", "mask_test_v2"),
    ("mask_train_V2", "mask_test_V2"),
)
LAYOUTS: dict[str, str] = {
    "market1501": "bounding_box_train/, bounding_box_test/, query/ with PPPP_cCsS_FFFFFF_NN.jpg",
    "dukemtmc": "bounding_box_train/, bounding_box_test/, query/ with PPPP_cC_fFFFFFFF.jpg",
    "msmt17": "train/ + test/ (or mask_train_v2/ + mask_test_v2/) + list_train.txt, "
    "list_val.txt, list_query.txt, list_gallery.txt",
    "msmt17_market": "bounding_box_train/, bounding_box_test/, query/ with PPPP_cC*.jpg (MSMT17)",
    "generic": "bounding_box_train/, bounding_box_test/, query/ with PPPP_cC*.jpg",
}
# Folder names the datasets unpack to, so a user may point at their parent folder.
CONVENTIONAL_NAMES: dict[str, tuple[str, ...]] = {
    "market1501": ("Market-1501-v15.09.15", "Market-1501", "market1501", "Market1501", "market"),
    "dukemtmc": ("DukeMTMC-reID", "dukemtmc-reid", "DukeMTMC", "dukemtmc", "duke"),
    "msmt17": ("MSMT17_V1", "MSMT17_V2", "MSMT17", "msmt17_v1", "msmt17_v2", "msmt17", "msmt"),
    "msmt17_market": ("MSMT17", "msmt17", "MSMT17_V1", "MSMT17_V2", "msmt"),
    "generic": (),
}
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp")

MARKET_NAME = re.compile(r"^(-?\d+)_c(\d+)s\d+_\d+_\d+")
DUKE_NAME = re.compile(r"^(-?\d+)_c(\d+)_f\d+")
CAM_NAME = re.compile(r"^(-?\d+)_c(\d+)")
_NAME_HELP = {
    "market1501": "PPPP_cCsS_FFFFFF_NN.jpg",
    "dukemtmc": "PPPP_cC_fFFFFFFF.jpg",
    "msmt17_market": "PPPP_cC*.jpg",
    "generic": "PPPP_cC*.jpg",
}


def _list_images(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.name.lower().endswith(IMAGE_SUFFIXES))


# --- Market-style folders ----------------------------------------------------------------


def _parse_folder(
    folder: Path, layout: str, pattern: re.Pattern[str], drop_zero: bool
) -> list[Record]:
    """Records of one Market-style folder: -1 (junk) always dropped, 0 when ``drop_zero``.

    Files whose names do not fit the pattern are skipped (stray files in users' folders);
    a folder with images of which none fits is an error, since it means a wrong layout.
    """
    names = _list_images(folder)
    records = []
    for name in names:
        match = pattern.match(name)
        if not match:
            continue
        pid, cam = int(match.group(1)), int(match.group(2))
        if pid == -1 or (pid == 0 and drop_zero):
            continue
        if cam < 1:
            raise SecretError(f"{folder / name}: camera c{cam} in the name; cameras count from c1")
        records.append(Record(str(folder / name), pid, cam - 1))
    if names and not records and not any(pattern.match(n) for n in names):
        raise SecretError(
            f"{folder}: no image name fits the {layout} layout ({_NAME_HELP[layout]}, e.g. "
            f"not '{names[0]}'); set the dataset's layout to the one its names follow"
        )
    return records


def _read_market_style(root: Path, layout: str) -> ReidDataset:
    """Market/Duke/generic mark distractors with id 0; MSMT17 has a real person 0."""
    pattern = {"market1501": MARKET_NAME, "dukemtmc": DUKE_NAME}.get(layout, CAM_NAME)
    zero_is_distractor = layout != "msmt17_market"
    return ReidDataset(
        name=root.name,
        root=str(root),
        layout=layout,
        train=_parse_folder(root / "bounding_box_train", layout, pattern, zero_is_distractor),
        query=_parse_folder(root / "query", layout, pattern, zero_is_distractor),
        gallery=_parse_folder(root / "bounding_box_test", layout, pattern, False),
    )


# --- MSMT17 official list files --------------------------------------------------------


def msmt_camera(file_name: str) -> int:
    """0-based camera of an MSMT17 image name.

    Official V1/V2 names read ``PPPP_III_CC_DDDDtime_FFFF_N.jpg`` (camera = third field,
    1..15); repacks carry ``_cC`` like Market. Both are accepted.
    """
    stem = Path(file_name).stem
    match = CAM_NAME.match(stem)
    if match:
        return int(match.group(2)) - 1
    fields = stem.split("_")
    if len(fields) >= 3 and fields[2].isdigit() and int(fields[2]) >= 1:
        return int(fields[2]) - 1
    raise SecretError(
        f"cannot read the camera from MSMT17 image name '{file_name}'; expected "
        "PPPP_III_CC_... (official) or PPPP_cC... (repack)"
    )


def _msmt_image_dirs(root: Path) -> tuple[str, str] | None:
    for train_dir, test_dir in MSMT_IMAGE_DIRS:
        if (root / train_dir).is_dir() and (root / test_dir).is_dir():
            return train_dir, test_dir
    return None


def _read_msmt_list(root: Path, list_name: str, image_dir: str) -> list[Record]:
    path = root / list_name
    records = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise SecretError(f"{path}:{line_no}: expected 'relative/path.jpg pid', got {line!r}")
        rel, pid = parts[0], int(parts[1])
        if pid == -1:
            continue
        records.append(Record(str(root / image_dir / rel), pid, msmt_camera(Path(rel).name)))
    # One existence check per list catches lists that sit beside the wrong image folders
    # without stat-ing 126k files.
    if records and not Path(records[0].path).is_file():
        raise SecretError(
            f"{path}: its first image {records[0].path} does not exist; the list files must "
            f"sit beside the {image_dir}/ folder they index"
        )
    return records


def _read_msmt(root: Path) -> ReidDataset:
    dirs = _msmt_image_dirs(root)
    if dirs is None:  # resolve_layout checked this; kept for direct callers
        raise SecretError(f"{root}: no train/ + test/ (or mask_train_v2/ + mask_test_v2/)")
    train_dir, test_dir = dirs
    return ReidDataset(
        name=root.name,
        root=str(root),
        layout="msmt17",
        train=_read_msmt_list(root, "list_train.txt", train_dir)
        + _read_msmt_list(root, "list_val.txt", train_dir),
        query=_read_msmt_list(root, "list_query.txt", test_dir),
        gallery=_read_msmt_list(root, "list_gallery.txt", test_dir),
    )


READERS: dict[str, Callable[[Path], ReidDataset]] = {
    "market1501": lambda root: _read_market_style(root, "market1501"),
    "dukemtmc": lambda root: _read_market_style(root, "dukemtmc"),
    "msmt17": _read_msmt,
    "msmt17_market": lambda root: _read_market_style(root, "msmt17_market"),
    "generic": lambda root: _read_market_style(root, "generic"),
}


# --- finding the dataset folder and its layout -------------------------------------------


def _has_market_dirs(folder: Path) -> bool:
    return all((folder / d).is_dir() for d in MARKET_DIRS)


def _has_msmt_lists(folder: Path) -> bool:
    return _msmt_image_dirs(folder) is not None and all((folder / f).is_file() for f in MSMT_LISTS)


def _sniff_market_style(folder: Path) -> str:
    """Tell Market, Duke, an MSMT17 repack and generic data apart by training image names."""
    names = _list_images(folder / "bounding_box_train")[:50]
    if any(MARKET_NAME.match(n) for n in names):
        return "market1501"
    if any(DUKE_NAME.match(n) for n in names):
        return "dukemtmc"
    if any("msmt" in part.lower() for part in folder.parts[-2:]):
        return "msmt17_market"
    return "generic"


def _detect(folder: Path) -> str | None:
    """The layout of ``folder`` itself, or None when it holds none."""
    if _has_msmt_lists(folder):
        return "msmt17"
    if _has_market_dirs(folder):
        return _sniff_market_style(folder)
    return None


def _fits(folder: Path, layout: str) -> str | None:
    """The concrete layout when ``folder`` can be read as ``layout`` (msmt17 takes both)."""
    if layout == "msmt17":
        if _has_msmt_lists(folder):
            return "msmt17"
        return "msmt17_market" if _has_market_dirs(folder) else None
    return layout if _has_market_dirs(folder) else None


def _children(base: Path, layout: str) -> list[Path]:
    groups = CONVENTIONAL_NAMES.values() if layout == "auto" else [CONVENTIONAL_NAMES[layout]]
    names = dict.fromkeys(n for group in groups for n in group)
    return [base / n for n in names if (base / n).is_dir()]


def _not_found(base: Path, layout: str) -> SecretError:
    wanted = LAYOUTS if layout == "auto" else {layout: LAYOUTS[layout]}
    looked = "; ".join(f"{name}: {needs}" for name, needs in wanted.items())
    state = "does not exist" if not base.exists() else "holds no dataset layout"
    examples = ", ".join(n for group in CONVENTIONAL_NAMES.values() for n in group[:1])
    return SecretError(
        f"dataset folder {base} {state}; point the config at a folder with one of these "
        f"layouts, directly or in a subfolder named like {examples}: {looked}"
    )


def resolve_layout(root: str | os.PathLike, layout: str = "auto") -> tuple[Path, str]:
    """Find the dataset folder (``root`` or a conventionally named child) and its layout.

    Only folder and list-file existence is checked (plus one folder listing to tell Market
    from Duke naming), so this is cheap enough to run before a workflow schedules any job.
    """
    base = Path(root).expanduser()
    if layout != "auto" and layout not in LAYOUTS:
        raise SecretError(
            f"unknown dataset layout '{layout}' for {base}; use auto or one of {', '.join(LAYOUTS)}"
        )
    if not base.is_dir():
        raise _not_found(base, layout)
    if layout != "auto":
        for folder in [base, *_children(base, layout)]:
            found = _fits(folder, layout)
            if found:
                return folder, found
        raise _not_found(base, layout)
    own = _detect(base)
    if own:
        return base, own
    hits = {folder: found for folder in _children(base, "auto") if (found := _detect(folder))}
    # Case-insensitive file systems list one folder under several conventional spellings.
    unique = {folder.resolve(): (folder, found) for folder, found in hits.items()}
    if len(unique) > 1:
        listing = ", ".join(f"{folder.name} ({found})" for folder, found in unique.values())
        raise SecretError(
            f"dataset folder {base} holds several datasets: {listing}; point the config at "
            "one of them or set its layout"
        )
    if unique:
        return next(iter(unique.values()))
    raise _not_found(base, layout)


def check_layout(root: str | os.PathLike, layout: str = "auto") -> str:
    """The layout name of the dataset under ``root``; one-line SecretError when none fits."""
    return resolve_layout(root, layout)[1]


def read_dataset(root: str | os.PathLike, layout: str = "auto") -> ReidDataset:
    """Read the train/query/gallery records of the dataset under ``root``.

    ``layout`` is ``"auto"`` or one of :data:`LAYOUTS`; the returned dataset's ``layout``
    names what was found (``msmt17`` may resolve to ``msmt17_market``).
    """
    folder, found = resolve_layout(root, layout)
    dataset = READERS[found](folder)
    if not dataset.train:
        raise SecretError(
            f"{folder}: no training images match the {found} layout ({LAYOUTS[found]})"
        )
    return dataset
