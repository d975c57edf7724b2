"""Procedural person-like images in Market-1501 layout: the embedded synthetic domains.

Real Re-ID datasets cannot be shipped, so the demo and the tests run on generated domains
that keep the structure SECRET is about: each identity is a combination of a top (colour and
pattern) and a bottom (colour and type) drawn from small palettes, so many identities share
their top or their bottom. Those pairs look alike in one half of the body and differ in the
other — exactly where the global and the local feature spaces disagree (paper Figure 3).

A domain is a set of camera styles (background, colour cast, illumination, blur, noise,
viewpoint), so three domains with different styles stand in for Market-1501, DukeMTMC-reID
and MSMT17 in the three transfer tasks of Table 1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from secret_core.data.readers import read_dataset
from secret_core.data.records import ReidDataset
from secret_core.errors import SecretError
from secret_core.io import write_json

# Palettes (RGB 0..1). Few entries on purpose: identities must share tops and bottoms.
TOP_COLOURS = np.array(
    [
        [0.85, 0.15, 0.15],
        [0.15, 0.35, 0.85],
        [0.95, 0.95, 0.95],
        [0.10, 0.10, 0.12],
        [0.20, 0.65, 0.25],
        [0.95, 0.80, 0.15],
        [0.55, 0.25, 0.65],
        [0.95, 0.55, 0.70],
    ]
)
TOP_PATTERNS = ("solid", "stripes", "logo", "two_tone")
BOTTOM_COLOURS = np.array(
    [
        [0.12, 0.15, 0.35],
        [0.08, 0.08, 0.08],
        [0.55, 0.50, 0.42],
        [0.40, 0.40, 0.45],
        [0.75, 0.70, 0.55],
        [0.45, 0.10, 0.12],
    ]
)
BOTTOM_TYPES = ("trousers", "shorts", "skirt")
SHOE_COLOURS = np.array([[0.05, 0.05, 0.05], [0.9, 0.9, 0.9], [0.45, 0.25, 0.10]])
HAIR_COLOURS = np.array([[0.05, 0.04, 0.03], [0.35, 0.20, 0.08], [0.75, 0.60, 0.30]])
SKIN_COLOURS = np.array([[0.95, 0.78, 0.65], [0.80, 0.60, 0.45], [0.50, 0.35, 0.25]])
BAGS = ("none", "none", "backpack", "handbag")


@dataclass(frozen=True)
class DomainStyle:
    """How a domain's cameras look: ranges each camera's style is drawn from."""

    background_palette: tuple[tuple[float, float, float], ...]
    texture: float  # amplitude of background texture
    cast: float  # strength of per-camera colour cast
    brightness: tuple[float, float]
    blur: tuple[float, float]  # Gaussian radius in pixels at 128x64
    noise: float  # std of pixel noise
    scale: tuple[float, float]  # person height relative to the image
    shift: float  # horizontal jitter relative to width


DOMAIN_STYLES: dict[str, DomainStyle] = {
    # bright outdoor campus, mild casts (Market-like)
    "synth_a": DomainStyle(
        ((0.55, 0.60, 0.55), (0.65, 0.65, 0.60), (0.50, 0.55, 0.60)),
        0.06,
        0.10,
        (0.9, 1.15),
        (0.0, 0.6),
        0.02,
        (0.86, 0.96),
        0.05,
    ),
    # grey, darker, bluish, blurrier (Duke-like)
    "synth_b": DomainStyle(
        ((0.35, 0.38, 0.45), (0.45, 0.45, 0.48), (0.30, 0.33, 0.30)),
        0.10,
        0.18,
        (0.65, 0.95),
        (0.4, 1.1),
        0.035,
        (0.80, 0.95),
        0.08,
    ),
    # many cameras, indoor/outdoor mix, strong casts and noise (MSMT-like)
    "synth_c": DomainStyle(
        ((0.60, 0.50, 0.40), (0.25, 0.25, 0.30), (0.70, 0.70, 0.72), (0.40, 0.45, 0.35)),
        0.14,
        0.25,
        (0.55, 1.25),
        (0.0, 1.4),
        0.05,
        (0.75, 0.97),
        0.10,
    ),
}


@dataclass
class SyntheticDomainSpec:
    """Size knobs of one synthetic domain (a config block under ``datasets``)."""

    name: str
    style: str
    seed: int = 0
    num_ids: int = 100
    num_test_ids: int = 100
    num_cameras: int = 6
    images_per_id_per_camera: int = 2
    height: int = 128
    width: int = 64


@dataclass(frozen=True)
class Identity:
    top: int
    top_pattern: int
    bottom: int
    bottom_type: int
    shoes: int
    hair: int
    long_hair: bool
    skin: int
    bag: int
    height: float  # relative body height
    girth: float  # relative body width
    leg_ratio: float  # legs share of the body


@dataclass(frozen=True)
class CameraStyle:
    background: np.ndarray
    gradient: np.ndarray
    cast: np.ndarray
    brightness: float
    blur: float
    noise: float
    mirror: bool


def sample_identities(count: int, rng: np.random.Generator) -> list[Identity]:
    """Identities from small palettes; the (top, bottom) combinations are unique when
    possible so that identities differ, while tops and bottoms repeat across them."""
    combos = [
        (t, p, b, k)
        for t in range(len(TOP_COLOURS))
        for p in range(len(TOP_PATTERNS))
        for b in range(len(BOTTOM_COLOURS))
        for k in range(len(BOTTOM_TYPES))
    ]
    order = rng.permutation(len(combos))
    ids = []
    for i in range(count):
        t, p, b, k = combos[order[i % len(combos)]]
        ids.append(
            Identity(
                top=t,
                top_pattern=p,
                bottom=b,
                bottom_type=k,
                shoes=int(rng.integers(len(SHOE_COLOURS))),
                hair=int(rng.integers(len(HAIR_COLOURS))),
                long_hair=bool(rng.random() < 0.4),
                skin=int(rng.integers(len(SKIN_COLOURS))),
                bag=int(rng.integers(len(BAGS))),
                height=float(rng.uniform(0.9, 1.0)),
                girth=float(rng.uniform(0.8, 1.2)),
                leg_ratio=float(rng.uniform(0.42, 0.52)),
            )
        )
    return ids


def sample_cameras(style: DomainStyle, count: int, rng: np.random.Generator) -> list[CameraStyle]:
    cams = []
    for _ in range(count):
        base = np.array(style.background_palette[int(rng.integers(len(style.background_palette)))])
        cams.append(
            CameraStyle(
                background=np.clip(base + rng.normal(0, 0.05, 3), 0, 1),
                gradient=rng.normal(0, 0.08, 3),
                cast=np.clip(1 + rng.normal(0, style.cast, 3), 0.6, 1.4),
                brightness=float(rng.uniform(*style.brightness)),
                blur=float(rng.uniform(*style.blur)),
                noise=style.noise,
                mirror=bool(rng.random() < 0.5),
            )
        )
    return cams


def render_person(
    ident: Identity,
    cam: CameraStyle,
    style: DomainStyle,
    height: int,
    width: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One uint8 image (H, W, 3) of ``ident`` seen by ``cam`` with a random pose jitter."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    y = yy / height
    x = xx / width
    # background: camera colour, vertical gradient, texture
    img = cam.background[None, None, :] + cam.gradient[None, None, :] * (y[..., None] - 0.5)
    img = (
        img
        + style.texture
        * rng.standard_normal((height // 8 + 1, width // 8 + 1, 1))
        .repeat(8, 0)
        .repeat(8, 1)[:height, :width]
    )
    # ground plane
    img = np.where((y > 0.93)[..., None], img * 0.7, img)

    scale = rng.uniform(*style.scale) * ident.height
    top_y = 0.98 - scale
    cx = 0.5 + rng.uniform(-style.shift, style.shift)
    half_w = 0.20 * ident.girth
    head_h = 0.13 * scale
    body = scale - head_h
    torso_end = top_y + head_h + body * (1 - ident.leg_ratio)
    legs_end = 0.98 - 0.03 * scale

    skin = SKIN_COLOURS[ident.skin]
    top_c = TOP_COLOURS[ident.top]
    bottom_c = BOTTOM_COLOURS[ident.bottom]

    def paint(mask: np.ndarray, colour: np.ndarray) -> None:
        nonlocal img
        img = np.where(mask[..., None], colour[None, None, :], img)

    # bag behind the body (backpack) drawn first
    bag = BAGS[ident.bag]
    if bag == "backpack":
        paint(
            (np.abs(x - (cx + 0.9 * half_w)) < 0.10)
            & (y > top_y + head_h * 1.1)
            & (y < top_y + head_h + body * 0.45),
            np.array([0.25, 0.2, 0.15]),
        )
    # legs / bottom
    leg_zone = (y >= torso_end) & (y < legs_end)
    legs = (
        leg_zone
        & (np.abs(x - cx) < half_w * 0.85)
        & ~((np.abs(x - cx) < half_w * 0.12) & (y > torso_end + 0.05))
    )
    bottom_type = BOTTOM_TYPES[ident.bottom_type]
    if bottom_type == "trousers":
        paint(legs, bottom_c)
    elif bottom_type == "shorts":
        cut = torso_end + (legs_end - torso_end) * 0.45
        paint(legs & (y < cut), bottom_c)
        paint(legs & (y >= cut), skin)
    else:  # skirt: widening trapezoid, then bare legs
        cut = torso_end + (legs_end - torso_end) * 0.55
        widen = half_w * (0.9 + 0.6 * (y - torso_end) / max(cut - torso_end, 1e-3))
        paint(leg_zone & (y < cut) & (np.abs(x - cx) < widen), bottom_c)
        paint(legs & (y >= cut) & (np.abs(x - cx) > half_w * 0.15), skin)
    # shoes
    paint(
        (y >= legs_end)
        & (y < 0.995)
        & (np.abs(x - cx) < half_w * 0.9)
        & (np.abs(x - cx) > half_w * 0.1),
        SHOE_COLOURS[ident.shoes],
    )
    # torso and arms
    torso = (y >= top_y + head_h) & (y < torso_end) & (np.abs(x - cx) < half_w)
    arms = (
        (y >= top_y + head_h * 1.1)
        & (y < torso_end + 0.04)
        & (np.abs(np.abs(x - cx) - half_w * 1.15) < 0.06)
    )
    pattern = TOP_PATTERNS[ident.top_pattern]
    paint(torso | arms, top_c)
    if pattern == "stripes":
        stripes = torso & (np.floor((y - top_y) * 40) % 2 == 0)
        paint(stripes, np.clip(1.0 - top_c * 0.8, 0, 1))
    elif pattern == "logo":
        centre_y = top_y + head_h + (torso_end - top_y - head_h) * 0.4
        paint(
            torso & (np.abs(x - cx) < half_w * 0.4) & (np.abs(y - centre_y) < 0.05),
            np.clip(1.0 - top_c, 0, 1),
        )
    elif pattern == "two_tone":
        paint(torso & (x > cx), np.clip(top_c * 0.5, 0, 1))
    # hands
    paint(arms & (y >= torso_end), skin)
    # head and hair
    head = ((x - cx) / 0.13) ** 2 + ((y - (top_y + head_h / 2)) / (head_h / 2)) ** 2 < 1
    paint(head, skin)
    hair_c = HAIR_COLOURS[ident.hair]
    hair = head & (y < top_y + head_h * 0.35)
    if ident.long_hair:
        hair = hair | (
            (np.abs(x - cx) < 0.15)
            & (np.abs(x - cx) > 0.09)
            & (y > top_y)
            & (y < top_y + head_h * 1.6)
        )
    paint(hair, hair_c)
    if bag == "handbag":
        paint(
            (np.abs(x - (cx - half_w * 1.3)) < 0.07) & (np.abs(y - torso_end) < 0.05),
            np.array([0.6, 0.15, 0.1]),
        )

    # camera: cast, brightness, noise, mirror
    jitter = rng.uniform(0.88, 1.12)  # per-shot illumination change within a camera
    img = img * cam.cast[None, None, :] * cam.brightness * jitter
    img = img + rng.normal(0, cam.noise, img.shape)
    if cam.mirror:
        img = img[:, ::-1]
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _save(array: np.ndarray, path: Path, blur: float, height: int) -> None:
    image = Image.fromarray(array)
    radius = blur * height / 128
    if radius > 0.15:
        image = image.filter(ImageFilter.GaussianBlur(radius))
    image.save(path, quality=90)


def _name(pid: int, cam: int, frame: int, index: int) -> str:
    """Market-1501 naming: PPPP_cCsS_FFFFFF_NN.jpg (pid -1 is written as '-1')."""
    pid_text = "-1" if pid < 0 else f"{pid:04d}"
    return f"{pid_text}_c{cam + 1}s1_{frame:06d}_{index:02d}.jpg"


def generate_domain(spec: SyntheticDomainSpec, out_dir: str | os.PathLike) -> ReidDataset:
    """Write the domain under ``out_dir`` (Market layout) unless it is already complete.

    Images are written into a temporary sibling folder that is renamed into place at the
    end, so an interrupted run never leaves a half-written domain behind.
    """
    out = Path(out_dir)
    marker = out / "synthetic.json"
    if marker.is_file():
        return read_dataset(out, "market1501")
    if spec.style not in DOMAIN_STYLES:
        raise SecretError(
            f"unknown synthetic style '{spec.style}'; use one of {', '.join(DOMAIN_STYLES)}"
        )
    if spec.num_cameras < 2 or spec.num_cameras > 9:
        raise SecretError(
            f"synthetic domain {spec.name}: num_cameras must be 2..9 "
            "(Market naming has one digit per camera)"
        )
    style = DOMAIN_STYLES[spec.style]
    rng = np.random.default_rng(spec.seed)
    identities = sample_identities(spec.num_ids + spec.num_test_ids, rng)
    cameras = sample_cameras(style, spec.num_cameras, rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for folder in ("bounding_box_train", "bounding_box_test", "query"):
            (tmp / folder).mkdir()
        frame = 0
        for index, ident in enumerate(identities):
            pid = index + 1
            is_test = index >= spec.num_ids
            n_cams = int(rng.integers(2, min(spec.num_cameras, 4) + 1))
            cams = sorted(rng.choice(spec.num_cameras, size=n_cams, replace=False).tolist())
            query_cams = set(cams[: 1 + int(rng.random() < 0.5)]) if is_test else set()
            for cam in cams:
                for shot in range(spec.images_per_id_per_camera):
                    frame += 1
                    arr = render_person(ident, cameras[cam], style, spec.height, spec.width, rng)
                    if not is_test:
                        folder = "bounding_box_train"
                    elif cam in query_cams and shot == 0:
                        folder = "query"
                    else:
                        folder = "bounding_box_test"
                    _save(
                        arr,
                        tmp / folder / _name(pid, cam, frame, shot + 1),
                        cameras[cam].blur,
                        spec.height,
                    )
        # gallery distractors (pid 0) and junk (pid -1), as in Market-1501
        extra = max(2, spec.num_test_ids // 10)
        for pid in [0] * extra + [-1] * extra:
            frame += 1
            cam = int(rng.integers(spec.num_cameras))
            ident = sample_identities(1, rng)[0]
            arr = render_person(ident, cameras[cam], style, spec.height, spec.width, rng)
            if pid < 0:  # junk: a badly cropped fragment
                arr = np.ascontiguousarray(arr[: spec.height // 2])
                arr = np.array(Image.fromarray(arr).resize((spec.width, spec.height)))
            _save(arr, tmp / "bounding_box_test" / _name(pid, cam, frame, 1), 0.0, spec.height)
        write_json(tmp / "synthetic.json", asdict(spec))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read_dataset(out, "market1501")
