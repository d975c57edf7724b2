"""Rank-list pictures: a query and its top-k gallery images, matches framed green."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from secret_core.io import atomic_path

THUMB = (64, 128)  # width, height of each thumbnail
GREEN, RED, BLUE = (0, 170, 0), (220, 0, 0), (40, 40, 40)


def _thumb(path: str, colour: tuple[int, int, int]) -> Image.Image:
    with Image.open(path) as img:
        thumb = img.convert("RGB").resize(THUMB)
    framed = Image.new("RGB", (THUMB[0] + 6, THUMB[1] + 6), colour)
    framed.paste(thumb, (3, 3))
    return framed


def draw_rank_list(
    query_records: Sequence,
    gallery_records: Sequence,
    distmat: np.ndarray,
    out_png: str | Path,
    top_k: int = 10,
    num_queries: int = 4,
    seed: int = 0,
) -> list[int]:
    """Draw ``num_queries`` random queries (seeded) with their ``top_k`` valid gallery
    matches; same-id same-camera gallery images are skipped as in evaluation. Returns the
    drawn query indices."""
    rng = np.random.default_rng(seed)
    g_pids = np.array([r.pid for r in gallery_records])
    g_cams = np.array([r.camid for r in gallery_records])
    chosen = sorted(
        rng.choice(
            len(query_records), size=min(num_queries, len(query_records)), replace=False
        ).tolist()
    )
    cell_w, cell_h = THUMB[0] + 10, THUMB[1] + 10
    canvas = Image.new("RGB", (cell_w * (top_k + 1) + 10, cell_h * len(chosen)), "white")
    draw = ImageDraw.Draw(canvas)
    for row, qi in enumerate(chosen):
        query = query_records[qi]
        valid = ~((g_pids == query.pid) & (g_cams == query.camid)) & (g_pids != -1)
        order = np.argsort(np.where(valid, distmat[qi], np.inf), kind="stable")[:top_k]
        y = row * cell_h + 2
        canvas.paste(_thumb(query.path, BLUE), (2, y))
        for col, gi in enumerate(order):
            if not valid[gi]:
                break
            colour = GREEN if g_pids[gi] == query.pid else RED
            canvas.paste(_thumb(gallery_records[gi].path, colour), (cell_w * (col + 1) + 10, y))
        draw.line([(cell_w + 4, y), (cell_w + 4, y + THUMB[1])], fill=BLUE, width=2)
    with atomic_path(out_png) as tmp:
        canvas.save(tmp, format="PNG")
    return chosen
