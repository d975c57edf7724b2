"""Protocol facts on the 96 real Market-1501 images (skipped when the sample is absent)."""

import re
from pathlib import Path

import numpy as np
from PIL import Image

from secret_core.evaluation import evaluate, pairwise_distance

NAME = re.compile(r"^(-?\d+)_c(\d)s\d_\d+_\d+\.jpg$")


def parse(folder: Path):
    """(path, pid, 0-based camera) from Market names PPPP_cCsS_FFFFFF_NN.jpg."""
    out = []
    for path in sorted(folder.glob("*.jpg")):
        match = NAME.match(path.name)
        assert match, path.name
        out.append((path, int(match.group(1)), int(match.group(2)) - 1))
    return out


def colour_histograms(items) -> np.ndarray:
    """8x8x8 RGB histogram per image, L2-normalised: a weak but real appearance feature."""
    feats = []
    for path, _, _ in items:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB")).reshape(-1, 3) // 32
        hist = np.bincount(rgb[:, 0] * 64 + rgb[:, 1] * 8 + rgb[:, 2], minlength=512)
        feats.append(hist / np.linalg.norm(hist))
    return np.stack(feats).astype(np.float32)


def test_protocol_on_real_market_files(market_mini):
    query, gallery = parse(market_mini / "query"), parse(market_mini / "bounding_box_test")
    assert query and gallery
    qp, qc = np.array([p for _, p, _ in query]), np.array([c for _, _, c in query])
    gp, gc = np.array([p for _, p, _ in gallery]), np.array([c for _, _, c in gallery])
    # a query counts only if the gallery holds its id in another camera (junk -1 never does)
    expected_valid = sum(
        any(g_pid == q_pid and g_cam != q_cam and g_pid != -1 for _, g_pid, g_cam in gallery)
        for _, q_pid, q_cam in query
    )
    dist = pairwise_distance(colour_histograms(query), colour_histograms(gallery))
    r = evaluate(dist, qp, gp, qc, gc, max_rank=10)
    assert r["num_valid_queries"] == expected_valid
    assert r["num_skipped_queries"] == len(query) - expected_valid
    assert 0 < r["mAP"] <= 1 and (np.diff(r["cmc"]) >= 0).all()
    # the count depends only on names, never on the features
    rng = np.random.default_rng(0)
    chance = evaluate(rng.random(dist.shape), qp, gp, qc, gc, max_rank=10)
    assert chance["num_valid_queries"] == expected_valid
