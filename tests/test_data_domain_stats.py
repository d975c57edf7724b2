"""Tracklets in the synthetic generator and the domain statistics of issue 11."""

import numpy as np
import pytest
from PIL import Image
from synthetic_specs import tiny_spec

from secret_core.data.domain_stats import (
    camera_colour_share,
    clothing_sharing,
    cross_camera_map,
    half_colour_retrieval,
    identity_statistics,
    matched_pixel_neighbours,
    pixel_neighbour_statistics,
    real_reference,
)
from secret_core.data.records import Record
from secret_core.errors import SecretError
from secret_core.synthetic import generate_domain
from secret_core.synthetic.domain import domain_identities


def pixels(records) -> np.ndarray:
    return np.stack([np.asarray(Image.open(r.path), np.float32) for r in records])


def test_identity_statistics_counts_images_and_cameras():
    recs = [Record("a", 1, 0), Record("b", 1, 0), Record("c", 1, 1), Record("d", 2, 0)]
    out = identity_statistics(recs)
    assert out["ids"] == 2 and out["images_per_id"] == 2.0
    assert out["cameras_per_id"] == 1.5 and out["share_ids_2plus_cameras"] == 0.5
    assert out["images_per_id_per_camera"] == (3 / 2 + 1) / 2


def test_clothing_sharing():
    out = clothing_sharing(["red", "red", "blue"], ["jeans", "skirt", "shorts"])
    assert out["share_sharing_top"] == 2 / 3 and out["share_sharing_bottom"] == 0.0
    assert out["other_ids_same_top"] == 2 / 3


def test_real_reference_market_has_17_images_per_id():
    assert round(real_reference()["Market-1501"]["images_per_id"], 1) == 17.2


def test_tracklet_frames_are_near_duplicates(tmp_path):
    """With tracklets, an image's pixel-nearest image is mostly a frame of its own tracklet;
    independent shots of the same spec rarely have such an easy positive."""
    spec = dict(num_ids=30, num_test_ids=6, images_per_id_per_camera=3, height=48, width=24)
    stats = {}
    for length in (1, 3):
        ds = generate_domain(tiny_spec(tracklet_length=length, **spec), tmp_path / str(length))
        train = ds.train
        stats[length] = pixel_neighbour_statistics(
            pixels(train), [r.pid for r in train], [r.camid for r in train]
        )
        assert identity_statistics(train)["share_ids_2plus_cameras"] == 1.0
    assert stats[3]["nn_same_id_same_camera"] > 0.8
    assert stats[3]["nn_same_id_same_camera"] > stats[1]["nn_same_id_same_camera"] + 0.3


def test_tracklet_frames_differ_and_generation_is_deterministic(tmp_path):
    spec = tiny_spec(tracklet_length=2, num_ids=4, num_test_ids=2)
    a = generate_domain(spec, tmp_path / "a")
    b = generate_domain(spec, tmp_path / "b")
    assert np.array_equal(pixels(a.train), pixels(b.train))
    images = pixels(a.train)
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert np.abs(images[i] - images[j]).mean() > 0.5  # no two frames are identical


def test_domain_identities_match_the_written_pids(tmp_path):
    spec = tiny_spec()
    people = domain_identities(spec)
    assert len(people) == spec.num_ids + spec.num_test_ids + max(2, spec.num_test_ids // 10)
    ds = generate_domain(spec, tmp_path / "d")
    assert max(r.pid for r in ds.train) <= spec.num_ids


def _flat(rgb: tuple[float, float, float]) -> np.ndarray:
    return np.broadcast_to(np.asarray(rgb, np.float64), (4, 2, 3))


def test_camera_colour_share_hand_worked():
    """Camera 0 shoots reddish, camera 1 bluish images: the camera sets all of log(R/G) and
    log(B/G); lightness varies within each camera only (two levels in both), so its share
    is 0. With cameras that see the same two colours, no share is left to the camera."""
    images = np.stack([_flat((2, 1, 1)), _flat((4, 2, 2)), _flat((1, 1, 2)), _flat((2, 2, 4))])
    # lightness: means 4/3, 8/3 in camera 0 and 4/3, 8/3 in camera 1
    shares = camera_colour_share(images * 50, [0, 0, 1, 1])
    assert shares["camera_share_log_r_g"] == pytest.approx(1.0, abs=1e-3)
    assert shares["camera_share_log_b_g"] == pytest.approx(1.0, abs=1e-3)
    assert shares["camera_share_log_lightness"] == pytest.approx(0.0, abs=1e-3)
    mixed = camera_colour_share(images * 50, [0, 1, 1, 0])  # each camera: one of each colour
    assert mixed["camera_share_log_r_g"] == pytest.approx(0.0, abs=1e-3)
    # between-camera variance over total variance, worked by hand for one split
    lightness = np.log(np.array([4, 8, 4, 8]) / 3 * 50)
    uneven = camera_colour_share(images * 50, [0, 0, 0, 1])
    cam_means = np.array([lightness[:3].mean(), lightness[3]])
    between = (
        3 * (cam_means[0] - lightness.mean()) ** 2 + (cam_means[1] - lightness.mean()) ** 2
    ) / 4
    assert uneven["camera_share_log_lightness"] == pytest.approx(
        between / lightness.var(), rel=1e-3
    )


def test_cross_camera_map_hand_worked():
    """Two ids in two cameras. Query x0 ranks y1 (0.9) before x1 (0.6): AP 1/2; x1 ranks
    y1 (0.889) and y0 (0.8) before x0: AP 1/3; y0 and y1 mirror them: mAP = 5/12."""
    feats = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.9, 0.43589]])
    pids, cams = [1, 1, 2, 2], [0, 1, 0, 1]
    assert cross_camera_map(feats, pids, cams) == pytest.approx(5 / 12)


def test_cross_camera_map_skips_ids_seen_by_one_camera_and_ignores_same_camera_matches():
    feats = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.2, 0.98]])
    # id 1's two images share camera 0: they are neither queries with an answer nor answers
    assert np.isnan(cross_camera_map(feats, [1, 1, 2, 3], [0, 0, 1, 1]))
    assert cross_camera_map(feats, [1, 1, 2, 2], [0, 0, 1, 0]) == pytest.approx(1.0)


def test_half_colour_retrieval_finds_the_half_that_identifies():
    """Upper halves coloured by identity, lower halves by a random colour per image: the
    upper half retrieves perfectly, the lower half does not."""
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (6, 3))
    images, pids, cams = [], [], []
    for pid in range(6):
        for cam in range(3):
            img = np.empty((16, 8, 3), np.uint8)
            img[:8] = palette[pid]
            img[8:] = rng.integers(0, 256, 3)
            images.append(img)
            pids.append(pid)
            cams.append(cam)
    out = half_colour_retrieval(np.stack(images), pids, cams)
    assert out["half_map_top"] == pytest.approx(1.0)
    assert out["half_map_bottom"] < 0.7
    assert out["half_top_over_bottom"] > 1.4


def _look_alike_pairs(num_ids: int = 6, noise: float = 0.01):
    """Two images per identity, one per camera, nearly equal; id 0 has a third, in camera 3."""
    rng = np.random.default_rng(3)
    looks = rng.normal(size=(num_ids, 4, 4, 3))
    images = np.concatenate([looks + noise * rng.normal(size=looks.shape) for _ in range(2)])
    pids = [*range(num_ids), *range(num_ids)]
    cams = [1] * num_ids + [2] * num_ids
    images = np.concatenate([images, looks[:1] + noise * rng.normal(size=(1, 4, 4, 3))])
    return images.astype(np.float32), [*pids, 0], [*cams, 3]


def test_matched_pixel_neighbours_hand_worked():
    images, pids, cams = _look_alike_pairs()
    # any 3 of the 6 identities with 2 images each: every image's nearest is its pair
    stats = matched_pixel_neighbours(images, pids, cams, num_ids=3, per_id=2, draws=5)
    assert stats["nn_same_id_other_camera"] == 1.0
    assert stats["nn_other_id"] == 0.0
    # only id 0 has 3 images, so 2 identities of 3 images cannot be drawn
    with pytest.raises(SecretError, match="only 1 identities have 3 images"):
        matched_pixel_neighbours(images, pids, cams, num_ids=2, per_id=3)


def test_matched_pixel_neighbours_of_the_whole_set_equal_the_plain_statistics():
    images, pids, cams = _look_alike_pairs()
    images, pids, cams = images[:-1], pids[:-1], cams[:-1]  # every id has exactly 2
    whole = pixel_neighbour_statistics(images, pids, cams)
    drawn = matched_pixel_neighbours(images, pids, cams, num_ids=6, per_id=2, draws=3, seed=9)
    assert drawn == pytest.approx(whole)


def test_matched_pixel_neighbours_are_seeded():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(40, 4, 4, 3)).astype(np.float32)
    pids, cams = [i // 4 for i in range(40)], [i % 4 for i in range(40)]
    first = matched_pixel_neighbours(images, pids, cams, num_ids=5, per_id=2, seed=1)
    assert first == matched_pixel_neighbours(images, pids, cams, num_ids=5, per_id=2, seed=1)
    assert first != matched_pixel_neighbours(images, pids, cams, num_ids=5, per_id=2, seed=2)
