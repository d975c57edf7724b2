"""Images decoded once: a dataset as one memory-mapped uint8 array at the model's input size.

Every epoch of every experiment used to decode each JPEG again (in every extraction,
fine-tuning and evaluation job, and per loader worker, with a 2 GiB per-process cache thrown
away after each job). ``prepare_dataset`` now decodes every image once, resizes it exactly as
the transforms did (PIL bicubic, what ``torchvision.transforms.Resize`` calls on a PIL image)
and stores ``train + query + gallery`` in that order as one ``(N, H, W, 3)`` ``.npy``. Jobs map
it read-only, so all processes of a machine share one copy in the page cache.

Decoding everything once is also the moment to check everything once: all unreadable files
are listed in one error before any training starts, and each file's size and mtime are
recorded so that a dataset changed on disk afterwards is noticed (not silently mixed with
stale pixels) by the jobs that read the array.

This module needs numpy and Pillow only: the dataset rule imports no torch.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from secret_core.data.records import SPLITS, Record, ReidDataset
from secret_core.errors import SecretError
from secret_core.io import atomic_path

SHOWN_FAILURES = 5
"""How many unreadable files the one-line error names (the full list goes to a file)."""


def decode_resized(path: str, height: int, width: int) -> np.ndarray:
    """The RGB image at ``path`` as uint8 (height, width, 3), resized as the transforms do.

    ``T.Resize((h, w), BICUBIC)`` on a PIL image is ``image.resize((w, h), BICUBIC)``, and
    Pillow returns an unchanged copy when the size already fits, so storing this is exact.
    Raises ``OSError`` / ``UnidentifiedImageError`` for unreadable or truncated files.
    """
    with Image.open(path) as image:
        rgb = image.convert("RGB")  # forces the full decode: truncation raises here
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(rgb, dtype=np.uint8)


def file_table(records: Sequence[Record]) -> tuple[np.ndarray, np.ndarray]:
    """(size, mtime_ns) of every record's file; -1 for a file that is gone."""
    sizes = np.empty(len(records), dtype=np.int64)
    mtimes = np.empty(len(records), dtype=np.int64)
    for i, record in enumerate(records):
        try:
            st = os.stat(record.path)
        except OSError:
            sizes[i] = mtimes[i] = -1
        else:
            sizes[i], mtimes[i] = st.st_size, st.st_mtime_ns
    return sizes, mtimes


def relative_paths(records: Sequence[Record], root: str | Path) -> list[str]:
    """Record paths relative to the dataset root: the summary stores the root resolved, the
    preparation may have read it through a relative or linked path."""
    return [os.path.relpath(r.path, root) for r in records]


def fingerprint(paths: Sequence[str], sizes: np.ndarray, mtimes: np.ndarray) -> str:
    """Hash of the file list with each file's size and mtime (what the preparation checked)."""
    digest = hashlib.sha256()
    for path, size, mtime in zip(paths, sizes.tolist(), mtimes.tolist(), strict=True):
        digest.update(f"{path}\t{size}\t{mtime}\n".encode())
    return digest.hexdigest()


def write_pixels(
    dataset: ReidDataset,
    height: int,
    width: int,
    pixels_path: str | Path,
    manifest_path: str | Path,
    failures_path: str | Path,
) -> dict[str, Any]:
    """Decode, check and store every image of ``dataset``; the summary's ``pixels`` entry.

    Unreadable files do not stop the scan: all of them are listed in ``failures_path`` and
    one SecretError names their count and the first few, so a user fixes them in one go.
    Both outputs are written under temporary names and renamed, never left half-written.
    """
    if height < 1 or width < 1:
        raise SecretError(f"model size {height}x{width} must be positive; fix model.height/width")
    records = [r for split in SPLITS for r in getattr(dataset, split)]
    bounds, start = {}, 0
    for split in SPLITS:
        stop = start + len(getattr(dataset, split))
        bounds[split] = [start, stop]
        start = stop
    sizes, mtimes = file_table(records)  # before decoding: a later change must differ
    failures: list[str] = []
    shape = (len(records), height, width, 3)
    # Streamed to a plain file (no writable memory map): a 12 GiB MSMT17 array must not
    # count against the job's memory limit as mapped dirty pages.
    with atomic_path(pixels_path) as tmp, open(tmp, "wb") as fh:
        header = {"descr": np.dtype(np.uint8).str, "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(fh, header)
        for record in records:
            try:
                image = decode_resized(record.path, height, width)
            except FileNotFoundError:
                failures.append(f"{record.path}\tmissing")
            except (UnidentifiedImageError, OSError, ValueError) as exc:
                failures.append(f"{record.path}\t{type(exc).__name__}: {exc}")
            else:
                if not failures:  # after the first failure only the scan goes on
                    fh.write(image.tobytes())
        if failures:
            failures_file = Path(failures_path)
            failures_file.parent.mkdir(parents=True, exist_ok=True)
            failures_file.write_text("\n".join(failures) + "\n")
            shown = ", ".join(f.split("\t")[0] for f in failures[:SHOWN_FAILURES])
            extra = len(failures) - SHOWN_FAILURES
            more = f" and {extra} more" if extra > 0 else ""
            raise SecretError(
                f"{len(failures)} of {len(records)} images of {dataset.root} cannot be read "
                f"(corrupt, truncated or missing): {shown}{more}; the full list is in "
                f"{failures_file}; replace or remove them and rerun"
            )
    paths = relative_paths(records, dataset.root)
    with atomic_path(manifest_path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, path=np.asarray(paths), size=sizes, mtime_ns=mtimes)
    return {
        "file": Path(pixels_path).name,
        "manifest": Path(manifest_path).name,
        "height": int(height),
        "width": int(width),
        "splits": bounds,
        "fingerprints": {
            split: fingerprint(paths[a:b], sizes[a:b], mtimes[a:b])
            for split, (a, b) in bounds.items()
        },
    }


class PixelArray:
    """Read-only view of one split of the prepared array, opened lazily in each process.

    Only the path and bounds are pickled, so DataLoader workers (fork or spawn) map the same
    file instead of receiving a copy of the pixels.
    """

    def __init__(self, path: str | Path, start: int, stop: int, height: int, width: int) -> None:
        self.path, self.start, self.stop = str(path), int(start), int(stop)
        self.height, self.width = int(height), int(width)
        self._array: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_array": None}

    def _open(self) -> np.ndarray:
        if self._array is None:
            try:
                full = np.load(self.path, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise SecretError(
                    f"prepared images {self.path} cannot be read ({exc}); rerun the "
                    "prepare_dataset rule"
                ) from None
            self._array = full[self.start : self.stop]
        return self._array

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int | slice) -> np.ndarray:
        """The uint8 (H, W, 3) image of record ``index`` of the split, or the (n, H, W, 3)
        images of a slice of records in one read."""
        return self._open()[index]


def open_split(
    summary: dict[str, Any],
    summary_path: str | Path,
    split: str,
    records: Sequence[Record],
    height: int,
    width: int,
) -> PixelArray:
    """The prepared pixels of ``split``, after checking they still describe ``records``.

    Raises a one-line SecretError when the dataset was prepared at another size, or when a
    file was added, removed or changed (size or mtime) since it was prepared.
    """
    info = summary.get("pixels")
    name = summary.get("name", "dataset")
    summary_dir = Path(summary_path).parent
    rerun = f"delete {summary_path} and rerun the workflow to prepare it again"
    if not info:
        raise SecretError(f"dataset {name} has no prepared images; {rerun}")
    if (info["height"], info["width"]) != (height, width):
        raise SecretError(
            f"dataset {name} was prepared at {info['height']}x{info['width']} but the model "
            f"reads {height}x{width}; {rerun}"
        )
    start, stop = info["splits"][split]
    if stop - start != len(records):
        raise SecretError(
            f"dataset {name} ({summary.get('root')}): {split} has {len(records)} images on disk "
            f"but {stop - start} were prepared; the dataset changed since, {rerun}"
        )
    sizes, mtimes = file_table(records)
    paths = relative_paths(records, summary["root"])
    if fingerprint(paths, sizes, mtimes) != info["fingerprints"][split]:
        manifest = summary_dir / info["manifest"]
        changed = _first_change(manifest, start, records, paths, sizes, mtimes)
        raise SecretError(
            f"dataset {name} changed on disk since it was prepared ({changed}); {rerun}"
        )
    return PixelArray(Path(summary_dir) / info["file"], start, stop, height, width)


def _first_change(
    manifest: Path,
    start: int,
    records: Sequence[Record],
    paths: Sequence[str],
    sizes: np.ndarray,
    mtimes: np.ndarray,
) -> str:
    """Name the first file that differs from the manifest, for the error message."""
    try:
        with np.load(manifest) as table:
            stop = start + len(records)
            old_paths = table["path"][start:stop]
            old_sizes, old_mtimes = table["size"][start:stop], table["mtime_ns"][start:stop]
    except (OSError, KeyError, ValueError):
        return "its file list no longer matches"
    for i, record in enumerate(records):
        if str(old_paths[i]) != paths[i]:
            return f"{record.path} is not the prepared {old_paths[i]}"
        if sizes[i] < 0:
            return f"{record.path} is missing"
        if sizes[i] != old_sizes[i] or mtimes[i] != old_mtimes[i]:
            return f"{record.path} was modified"
    return "its file list no longer matches"
