"""Rank-list picture: filtered as in evaluation, green and red frames, PNG written atomically."""

import numpy as np
import pytest
from PIL import Image

from secret_core.data import Record
from secret_core.errors import SecretError
from secret_core.evaluation import draw_rank_list
from secret_core.evaluation.ranklist import BORDER, GREEN, RED, cell_origin


def test_rank_list_png(tmp_path):
    specs = [(1, 0), (1, 0), (2, 1), (1, 1), (-1, 2)]  # query, then 4 gallery images
    records = []
    for i, (pid, cam) in enumerate(specs):
        path = tmp_path / f"{i}.jpg"
        Image.new("RGB", (16, 32), (50 * i, 90, 0)).save(path)
        records.append(Record(str(path), pid, cam))
    out = tmp_path / "sub" / "ranks.png"
    # gallery 0 is the same id and camera (dropped), gallery 3 is junk (dropped):
    # what remains is pid 2 (rank 1, red) then pid 1 in camera 1 (rank 2, green)
    dist = np.array([[0.0, 0.1, 0.2, 0.05]])
    drawn = draw_rank_list(records[:1], records[1:], dist, out, top_k=3, num_queries=4)
    assert drawn == [0]
    assert not list(out.parent.glob(".*tmp*"))
    with Image.open(out) as img:
        assert img.format == "PNG"
        assert img.getpixel(cell_origin(0, 1)) == RED
        assert img.getpixel(cell_origin(0, 2)) == GREEN
        x, y = cell_origin(0, 3)
        assert img.getpixel((x + BORDER + 5, y + BORDER + 5)) == (255, 255, 255)  # only 2 valid
    with pytest.raises(SecretError):
        draw_rank_list(records[:1], records[1:], dist[:, :2], out)
