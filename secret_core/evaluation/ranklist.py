"""Rank-list pictures: queries and their top-k gallery images, matches framed green.

The same layout fast-reid and torchreid draw (query first, then the ranked gallery; green
frame = same identity, red = different), with the gallery filtered exactly as in
evaluation (same id AND same camera dropped, id -1 dropped) and ties in stable index
order, so the picture agrees with the reported Rank-k numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from secret_core.errors import SecretError
from secret_core.io import atomic_path

THUMB = (64, 128)  # width, height of each thumbnail: the 1:2 aspect of 256x128 inputs
BORDER = 3
GAP = 10  # extra space between the query column and the ranked gallery
GREEN, RED, GREY = (0, 170, 0), (220, 0, 0), (40, 40, 40)


def _thumb(path: str, colour: tuple[int, int, int]) -> Image.Image:
    try:
        with Image.open(path) as img:
            thumb = img.convert("RGB").resize(THUMB)
    except OSError as exc:
        raise SecretError(f"{path}: cannot open image for the rank list ({exc})") from None
    framed = Image.new("RGB", (THUMB[0] + 2 * BORDER, THUMB[1] + 2 * BORDER), colour)
    framed.paste(thumb, (BORDER, BORDER))
    return framed


def cell_origin(row: int, col: int) -> tuple[int, int]:
    """Top-left pixel of a cell: column 0 is the query, column k the rank-k image."""
    cell_w, cell_h = THUMB[0] + 2 * BORDER + 4, THUMB[1] + 2 * BORDER + 4
    return col * cell_w + (GAP if col else 0) + 2, row * cell_h + 2


def draw_rank_list(
    query_records: Sequence[Any],
    gallery_records: Sequence[Any],
    distmat: np.ndarray,
    out_png: str | Path,
    top_k: int = 10,
    num_queries: int = 4,
    seed: int = 0,
) -> list[int]:
    """Draw ``num_queries`` seeded random queries with their ``top_k`` valid gallery images
    and save the PNG atomically. Records need ``path``, ``pid`` and ``camid``. Returns the
    drawn query indices (sorted)."""
    distmat = np.asarray(distmat)
    if distmat.shape != (len(query_records), len(gallery_records)):
        raise SecretError(
            f"rank list: distances {distmat.shape} do not match {len(query_records)} queries "
            f"x {len(gallery_records)} gallery images"
        )
    if top_k < 1 or num_queries < 1 or not len(query_records):
        raise SecretError("rank list needs top_k >= 1, num_queries >= 1 and some queries")
    g_pids = np.array([r.pid for r in gallery_records])
    g_cams = np.array([r.camid for r in gallery_records])
    rng = np.random.default_rng(seed)
    count = min(num_queries, len(query_records))
    chosen = sorted(rng.choice(len(query_records), size=count, replace=False).tolist())
    width = cell_origin(0, top_k + 1)[0]
    height = cell_origin(len(chosen), 0)[1]
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for row, qi in enumerate(chosen):
        query = query_records[qi]
        valid = ~((g_pids == query.pid) & (g_cams == query.camid)) & (g_pids != -1)
        ranked = np.flatnonzero(valid)[np.argsort(distmat[qi][valid], kind="stable")][:top_k]
        canvas.paste(_thumb(query.path, GREY), cell_origin(row, 0))
        for col, gi in enumerate(ranked, start=1):
            colour = GREEN if g_pids[gi] == query.pid else RED
            canvas.paste(_thumb(gallery_records[gi].path, colour), cell_origin(row, col))
        x, y = cell_origin(row, 1)
        draw.line([(x - GAP // 2 - 2, y), (x - GAP // 2 - 2, y + THUMB[1])], fill=GREY, width=2)
    with atomic_path(out_png) as tmp:
        canvas.save(tmp, format="PNG")
    return chosen
