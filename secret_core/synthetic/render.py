"""Drawing synthetic people: identities, cameras and one rendered shot.

Everything is vectorised numpy on the output grid (boolean masks painted in back-to-front
order) plus PIL for blur and resampling, so a 128x64 shot costs about a millisecond.

What makes an identity: top (colour, pattern), bottom (colour, type), sleeves, shoes, hair
colour and length, skin, bag (none, backpack, handbag) and its colour and side, and body
proportions (height, girth, leg/torso ratio). What a shot adds: the camera's scene crop,
viewpoint (front, back or side, drawn from the camera's own mix), scale, position, lean,
walking stride, an occluder now and then, and the camera's colour mixing, brightness,
gamma, sensor resolution, blur and noise. So clothing identifies a person across cameras,
while views, scenes and camera colour make raw-pixel matching unreliable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

from secret_core.synthetic.styles import (
    BAG_COLOURS,
    BAG_TYPES,
    BOTTOM_COLOURS,
    BOTTOM_TYPES,
    HAIR_COLOURS,
    SHOE_COLOURS,
    SKIN_COLOURS,
    TOP_COLOURS,
    TOP_PATTERNS,
    TOP_SECOND,
    DomainStyle,
)

FloatArray = np.ndarray


@dataclass(frozen=True)
class Identity:
    """Appearance attributes of one person (colours are RGB tuples in 0..1)."""

    top_colour: str
    top_pattern: str
    bottom_colour: str
    bottom_type: str
    top_rgb: tuple[float, float, float]
    second_rgb: tuple[float, float, float]
    bottom_rgb: tuple[float, float, float]
    long_sleeves: bool
    shoes: int
    hair: int
    long_hair: bool
    skin: int
    bag: str
    bag_colour: int
    bag_side: int  # +1: the person's right hand (image left in a front view), -1: left
    height: float  # relative body height
    girth: float  # relative body width
    leg_ratio: float  # legs' share of the body height

    @property
    def top(self) -> tuple[str, str]:
        return self.top_colour, self.top_pattern

    @property
    def bottom(self) -> tuple[str, str]:
        return self.bottom_colour, self.bottom_type


@dataclass(frozen=True)
class Camera:
    """One camera of a domain: its scene and its fixed imaging characteristics."""

    scene: FloatArray  # (H, 2W, 3) float32; each shot crops a W-wide window
    mix: FloatArray  # 3x3 colour mixing (cast), applied as pixel @ mix.T
    brightness: float
    gamma: float
    blur: float  # Gaussian radius at 128 px height
    lowres: float  # down-sampling factor of the sensor
    noise: float
    views: FloatArray  # probabilities of front, back, side
    scale: tuple[float, float]
    lean: float  # mean shear from the camera's tilt
    ground: FloatArray  # colour occluders are drawn from


def _jitter(rgb: tuple[float, float, float], rng: np.random.Generator, amount: float):
    """A slightly different shade of a palette colour: same look, not the same pixels."""
    shade = np.clip(np.asarray(rgb) * rng.uniform(1 - amount, 1 + amount), 0, 1)
    return tuple(float(v) for v in shade)


def sample_identities(
    count: int,
    style: DomainStyle,
    rng: np.random.Generator,
    taken: set[tuple[str, str, str, str]] | None = None,
) -> list[Identity]:
    """``count`` identities under the domain's clothing prior.

    Tops and bottoms come from small palettes, so most tops and bottoms are worn by many
    identities; the full (top, bottom) combination is kept unique while untried ones are
    easy to find (``taken`` carries it across calls), so identities still differ.
    """
    taken = set() if taken is None else taken
    top_names, bottom_names = list(TOP_COLOURS), list(BOTTOM_COLOURS)
    top_w = style.colour_weights(TOP_COLOURS)
    bottom_w = style.colour_weights(BOTTOM_COLOURS)
    type_w = np.asarray(style.bottom_weights) / np.sum(style.bottom_weights)
    people = []
    for _ in range(count):
        for _attempt in range(30):
            combo = (
                top_names[rng.choice(len(top_names), p=top_w)],
                TOP_PATTERNS[rng.integers(len(TOP_PATTERNS))],
                bottom_names[rng.choice(len(bottom_names), p=bottom_w)],
                BOTTOM_TYPES[rng.choice(len(BOTTOM_TYPES), p=type_w)],
            )
            if combo not in taken:
                break
        taken.add(combo)
        top, pattern, bottom, kind = combo
        people.append(
            Identity(
                top_colour=top,
                top_pattern=pattern,
                bottom_colour=bottom,
                bottom_type=kind,
                top_rgb=_jitter(TOP_COLOURS[top], rng, 0.06),
                second_rgb=TOP_COLOURS[TOP_SECOND[top]],
                bottom_rgb=_jitter(BOTTOM_COLOURS[bottom], rng, 0.06),
                long_sleeves=bool(rng.random() < style.long_sleeves),
                shoes=int(rng.integers(len(SHOE_COLOURS))),
                hair=int(rng.integers(len(HAIR_COLOURS))),
                long_hair=bool(rng.random() < 0.35),
                skin=int(rng.integers(len(SKIN_COLOURS))),
                bag=BAG_TYPES[rng.choice(len(BAG_TYPES), p=[0.55, 0.28, 0.17])],
                bag_colour=int(rng.integers(len(BAG_COLOURS))),
                bag_side=int(rng.choice([-1, 1])),
                height=float(rng.uniform(0.88, 1.0)),
                girth=float(rng.uniform(0.85, 1.2)),
                leg_ratio=float(rng.uniform(0.44, 0.52)),
            )
        )
    return people


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> FloatArray:
    """Low-frequency texture (H, W, 3): mostly brightness, a little colour, like real walls
    and foliage (coarse random values, bilinearly enlarged)."""
    small = rng.standard_normal((max(2, height // cell), max(2, width // cell), 3))
    small = small[:, :, :1] + 0.3 * small  # shared luminance + weak per-channel colour
    image = Image.fromarray(np.uint8(np.clip(small * 40 + 128, 0, 255)))
    big = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.float32)
    return (big - 128.0) / 40.0


def _shade(gains: FloatArray, tint: float = 0.25) -> FloatArray:
    """Per-channel gains reduced to their mean plus ``tint`` of their spread: a scene's
    colours vary from camera to camera mostly in lightness, as real scenes do (see
    ``domain_stats.camera_colour_share``)."""
    mean = gains.mean()
    return mean + tint * (gains - mean)


def _scene(style: DomainStyle, rng: np.random.Generator, height: int, width: int) -> FloatArray:
    """A camera's background, twice the image width so shots can pan across it."""
    h, w = height, 2 * width
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = np.asarray(style.sky_palette[rng.integers(len(style.sky_palette))], np.float32)
    ground = np.asarray(style.ground_palette[rng.integers(len(style.ground_palette))], np.float32)
    sky = np.clip(sky * _shade(rng.uniform(0.85, 1.15, 3)), 0, 1)
    ground = np.clip(ground * _shade(rng.uniform(0.85, 1.15, 3)), 0, 1)
    horizon = rng.uniform(0.45, 0.75)
    upper = sky * (1.0 + rng.uniform(-0.25, 0.25) * (y - 0.5))
    lower = ground * (0.85 + 0.35 * (y - horizon))
    scene = np.where(y < horizon, upper, lower) * np.ones((1, w, 1), np.float32)
    # paving lines on the ground
    period = rng.uniform(0.05, 0.12)
    lines = (y[:, :, 0] > horizon) & (((y[:, :, 0] - horizon) / period) % 1.0 < 0.12)
    scene[np.broadcast_to(lines, (h, w))] *= 0.88
    # buildings and shop fronts on the horizon, bikes, benches and kiosks nearer the camera:
    # each block stands somewhere between the horizon and the frame's bottom, so clutter sits
    # behind the legs as well as behind the torso, as in real footage (generator version 4;
    # with all of it on the horizon, the lower half of every shot was clean and the upper
    # half busy, which made the top half of a person the harder one to match)
    palette = style.sky_palette + style.ground_palette
    for _ in range(style.clutter):
        colour = np.asarray(palette[rng.integers(len(palette))], np.float32)
        colour = np.clip(colour * rng.uniform(0.55, 1.25), 0, 1) * style.clutter_contrast
        colour += sky * (1.0 - style.clutter_contrast)
        x0 = int(rng.integers(0, w))
        x1 = min(w, x0 + int(rng.uniform(0.08, 0.6) * w))
        y1 = int(rng.uniform(horizon, 1.0) * h)
        y0 = max(0, y1 - int(rng.uniform(0.15, 0.6) * h))
        scene[y0:y1, x0:x1] = colour
    scene += style.texture * _smooth_noise(rng, h, w, cell=max(2, height // 16))
    return np.clip(scene, 0, 1).astype(np.float32)


def sample_cameras(
    style: DomainStyle, count: int, rng: np.random.Generator, height: int, width: int
) -> list[Camera]:
    """``count`` cameras whose characteristics are drawn from the domain style's ranges."""
    cams = []
    lo, hi = style.scale
    for _ in range(count):
        mix = np.eye(3) + rng.normal(0, style.cast / 3, (3, 3))
        mix *= rng.normal(1, style.cast, 3)[:, None]
        centre = rng.uniform(lo, hi)
        spread = (hi - lo) / 4
        cams.append(
            Camera(
                scene=_scene(style, rng, height, width),
                mix=mix.astype(np.float32),
                brightness=float(rng.uniform(*style.brightness)),
                gamma=float(rng.uniform(*style.gamma)),
                blur=float(rng.uniform(*style.blur)),
                lowres=float(rng.uniform(*style.lowres)),
                noise=style.noise,
                views=rng.dirichlet([style.view_bias] * 3),
                scale=(max(lo, centre - spread), min(hi, centre + spread)),
                lean=float(rng.uniform(-style.shear, style.shear)),
                ground=np.asarray(
                    style.ground_palette[rng.integers(len(style.ground_palette))], np.float32
                ),
            )
        )
    return cams


@lru_cache(maxsize=8)
def _grid(height: int, width: int) -> tuple[FloatArray, FloatArray]:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return yy + 0.5, xx + 0.5


@lru_cache(maxsize=8)
def _noise_bank(height: int, width: int) -> FloatArray:
    """A fixed field of Gaussian noise that shots crop at random offsets: drawing fresh
    normals for every pixel cost a sixth of the render time, and this looks the same."""
    bank = np.random.default_rng(20220201).standard_normal((2 * height, 2 * width, 3))
    return bank.astype(np.float32)


def _segment(x: FloatArray, y: FloatArray, a: tuple, b: tuple) -> tuple[FloatArray, FloatArray]:
    """Squared distance of every pixel to the segment a-b, and its position t (0..1) along it
    (limbs are thick segments; t tells sleeves from hands and shorts from knees)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = np.clip(((x - a[0]) * dx + (y - a[1]) * dy) / max(dx * dx + dy * dy, 1e-6), 0.0, 1.0)
    return (x - a[0] - t * dx) ** 2 + (y - a[1] - t * dy) ** 2, t


def _ellipse(x: FloatArray, y: FloatArray, cx: float, cy: float, rx: float, ry: float):
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1.0


@dataclass(frozen=True)
class Body:
    """Pixel geometry of one person in one shot (x is measured from the body axis)."""

    view: str  # front, back or side
    hp: float  # body height in pixels
    foot: float  # y of the soles
    facing: float  # side view: +1 walks to the right, -1 to the left
    stride: float  # distance between the feet along the walking direction
    head_y: float
    head_rx: float
    head_ry: float
    shoulder: float  # y of the shoulder line
    hip: float  # y of the hip line
    sw: float  # half width at the shoulders
    hw: float  # half width at the hips

    @property
    def side(self) -> bool:
        return self.view == "side"

    @classmethod
    def of(cls, ident: Identity, view: str, hp: float, foot: float, facing: float, stride: float):
        """Proportions of ``ident`` at height ``hp``; a side view is narrower."""
        width_k = 0.62 if view == "side" else 1.0
        top, head_ry = foot - hp, 0.062 * hp
        return cls(
            view=view,
            hp=hp,
            foot=foot,
            facing=facing,
            stride=stride,
            head_y=top + head_ry,
            head_rx=(0.052 if view == "side" else 0.047) * hp,
            head_ry=head_ry,
            shoulder=top + 0.15 * hp,
            hip=foot - ident.leg_ratio * hp,
            sw=0.115 * hp * ident.girth * width_k,
            hw=0.095 * hp * ident.girth * width_k,
        )


def _rgb(colour) -> FloatArray:
    return np.asarray(colour, np.float32)


def _paint_behind(img: FloatArray, ident: Identity, body: Body, x, y) -> None:
    """What the body hides: a backpack seen from the side, long hair seen from the front."""
    hp = body.hp
    if ident.bag == "backpack" and body.side:
        cx = -body.facing * (body.sw + 0.035 * hp)
        inside = (abs(x - cx) < 0.05 * hp) & (y > body.shoulder + 0.02 * hp)
        img[inside & (y < body.hip - 0.05 * hp)] = _rgb(BAG_COLOURS[ident.bag_colour])
    if ident.long_hair and body.view != "back":
        hx = -body.facing * 0.02 * hp if body.side else 0.0
        hair = _ellipse(
            x, y, hx, body.head_y + 0.7 * body.head_ry, 1.3 * body.head_rx, 1.9 * body.head_ry
        )
        img[hair] = _rgb(HAIR_COLOURS[ident.hair])


def _paint_legs(img: FloatArray, ident: Identity, body: Body, x, y) -> None:
    """Legs dressed by the bottom type, shoes, and the skirt over them."""
    hp, skin, bottom = body.hp, _rgb(SKIN_COLOURS[ident.skin]), _rgb(ident.bottom_rgb)
    hip_dx = (0.012 if body.side else 0.045) * hp * ident.girth
    leg_r = 0.04 * hp * ident.girth**0.5
    for k in (-1, 1):
        spread = body.stride / 2 if body.side else 0.055 * hp + 0.15 * body.stride
        foot_x = k * spread
        dist2, t = _segment(x, y, (k * hip_dx, body.hip), (foot_x, body.foot - 0.018 * hp))
        if ident.bottom_type == "trousers":
            img[dist2 < leg_r**2] = bottom
        elif ident.bottom_type == "shorts":
            img[(dist2 < leg_r**2) & (t >= 0.42)] = skin
            img[(dist2 < (1.2 * leg_r) ** 2) & (t < 0.42)] = bottom
        else:
            img[dist2 < leg_r**2] = skin
        shoe_x = foot_x + (body.facing * 0.015 * hp if body.side else 0.0)
        shoe = _ellipse(x, y, shoe_x, body.foot - 0.012 * hp, 0.036 * hp, 0.017 * hp)
        img[shoe] = _rgb(SHOE_COLOURS[ident.shoes])
    if ident.bottom_type == "skirt":
        depth = (y - body.hip) / max(body.foot - body.hip, 1.0)
        half = body.hw * (1.0 + 0.9 * depth) + 0.01 * hp
        img[(y >= body.hip - 0.01 * hp) & (depth < 0.5) & (abs(x) < half)] = bottom


def _torso_depth(body: Body, y: FloatArray) -> FloatArray:
    """0 at the shoulder line, 1 at the hip line."""
    return np.clip((y - body.shoulder) / max(body.hip - body.shoulder, 1.0), 0.0, 1.0)


def _paint_torso(img: FloatArray, ident: Identity, body: Body, x, y) -> None:
    """The top garment and its pattern (a logo only shows from the front)."""
    hp, second = body.hp, _rgb(ident.second_rgb)
    depth = _torso_depth(body, y)
    half = body.sw + (body.hw - body.sw) * depth
    half = half * np.minimum(1.0, 0.8 + 0.2 * (y - body.shoulder) / (0.03 * hp))  # shoulders
    torso = (y >= body.shoulder) & (y < body.hip + 0.02 * hp) & (abs(x) < half)
    img[torso] = _rgb(ident.top_rgb)
    if ident.top_pattern == "stripes":
        img[torso & (((y - body.shoulder) / (0.035 * hp)) % 2.0 >= 1.0)] = second
    elif ident.top_pattern == "colour_block":
        img[torso & (depth < 0.32)] = second
    elif ident.top_pattern == "logo" and body.view == "front":
        centre = body.shoulder + 0.32 * (body.hip - body.shoulder)
        img[(abs(x) < 0.045 * hp) & (abs(y - centre) < 0.04 * hp)] = second


def _paint_arms(img: FloatArray, ident: Identity, body: Body, x, y) -> None:
    """Sleeves over the upper arm (the whole arm when long), hands, and a handbag."""
    hp, sw = body.hp, body.sw
    arm_r2 = (0.027 * hp * ident.girth**0.5) ** 2
    sleeve_end = 0.9 if ident.long_sleeves else 0.4
    hand_y = body.hip + 0.02 * hp
    if body.side:  # one arm visible, swinging against the stride
        arms = [(1, (0.0, body.shoulder + 0.03 * hp), (body.facing * body.stride * 0.4, hand_y))]
    else:
        arms = [
            (k, (k * (sw - 0.02 * hp), body.shoulder + 0.025 * hp), (k * (sw + 0.012 * hp), hand_y))
            for k in (-1, 1)
        ]
    # the handbag hangs from the person's own hand: image left in a front view
    bag_hand = -ident.bag_side if body.view == "front" else ident.bag_side
    for k, a, b in arms:
        dist2, t = _segment(x, y, a, b)
        arm = dist2 < arm_r2
        img[arm & (t < sleeve_end)] = _rgb(ident.top_rgb)
        img[arm & (t >= sleeve_end)] = _rgb(SKIN_COLOURS[ident.skin])
        if ident.bag == "handbag" and (body.side or k == bag_hand):
            bag = (abs(x - b[0]) < 0.04 * hp) & (abs(y - b[1] - 0.06 * hp) < 0.045 * hp)
            img[bag] = _rgb(BAG_COLOURS[ident.bag_colour])


def _paint_backpack_front_or_back(img: FloatArray, ident: Identity, body: Body, x, y) -> None:
    """Straps over the chest from the front; the pack itself over the back."""
    if ident.bag != "backpack" or body.side:
        return
    depth, colour = _torso_depth(body, y), _rgb(BAG_COLOURS[ident.bag_colour])
    below = y > body.shoulder + (0.0 if body.view == "front" else 0.02 * body.hp)
    if body.view == "front":
        img[(abs(abs(x) - 0.55 * body.sw) < 0.014 * body.hp) & below & (depth < 0.45)] = colour
    else:
        img[(abs(x) < 0.75 * body.sw) & below & (depth < 0.62)] = colour


def _paint_head(img: FloatArray, ident: Identity, body: Body, x, y) -> None:
    """Neck, face and hair; from the back the head is all hair."""
    hp, skin, hair = body.hp, _rgb(SKIN_COLOURS[ident.skin]), _rgb(HAIR_COLOURS[ident.hair])
    rx, ry = body.head_rx, body.head_ry
    img[(abs(x) < 0.022 * hp) & (y > body.head_y) & (y < body.shoulder + 0.01 * hp)] = skin
    head = _ellipse(x, y, 0.0, body.head_y, rx, ry)
    if body.view == "back":
        img[head] = hair
        if ident.long_hair:
            img[_ellipse(x, y, 0.0, body.head_y + 0.9 * ry, 1.25 * rx, 2.0 * ry)] = hair
        return
    img[head] = skin
    cap = head & (y < body.head_y - 0.3 * ry)
    if body.side:
        cap |= head & (x * body.facing < -0.2 * rx)
    img[cap] = hair


def _draw_person(img: FloatArray, ident: Identity, body: Body, x, y) -> None:
    """Paint ``ident`` into ``img`` in place, back to front."""
    for paint in (
        _paint_behind,
        _paint_legs,
        _paint_torso,
        _paint_arms,
        _paint_backpack_front_or_back,
        _paint_head,
    ):
        paint(img, ident, body, x, y)


def _occlude(img: FloatArray, cam: Camera, rng: np.random.Generator) -> None:
    """A bench, car or railing across the legs, or a pole in front of the person."""
    h, w = img.shape[:2]
    colour = np.clip(cam.ground * rng.uniform(0.3, 1.1, 3), 0, 1)
    if rng.random() < 0.6:
        y0 = int(h * rng.uniform(0.62, 0.85))
        x0 = int(rng.integers(-w // 2, w // 2))
        img[y0:, max(0, x0) : max(0, x0 + int(w * rng.uniform(0.6, 1.2)))] = colour
    else:
        x0 = int(rng.integers(0, w))
        img[:, x0 : x0 + max(2, int(w * rng.uniform(0.08, 0.2)))] = colour


def render(
    ident: Identity | None,
    cam: Camera,
    style: DomainStyle,
    height: int,
    width: int,
    rng: np.random.Generator,
    crop: float | None = None,
    *,
    pose_rng: np.random.Generator | None = None,
) -> Image.Image:
    """One shot of ``ident`` (None: scene only) by ``cam``, as a PIL RGB image.

    ``crop`` (0..1) keeps only the top part of the frame and stretches it back, which is
    what a bad detection (Market's "junk" boxes) looks like.

    ``pose_rng``: the generator of the shot's tracklet. Frames of one tracklet pass
    generators seeded alike, so they share the scene crop, view, scale, position, lean and
    occluder; the walking stride, a few per cent of scale and position (detector jitter),
    brightness flicker and noise still come from ``rng``. None: everything from ``rng``
    (independent shots, in the draw order they had before tracklets existed).
    """
    tracklet = pose_rng is not None
    pose = pose_rng if tracklet else rng
    offset = int(pose.integers(0, cam.scene.shape[1] - width + 1))
    img = cam.scene[:, offset : offset + width].copy()
    if ident is not None:
        hp = pose.uniform(*cam.scale) * ident.height * height
        foot = height * pose.uniform(0.955, 0.99)
        hp = min(hp, 0.99 * foot)  # a detector's box holds the whole person
        facing = float(pose.choice([-1.0, 1.0]))
        stride = rng.uniform(0.0, 0.18) * hp
        view = ("front", "back", "side")[pose.choice(3, p=cam.views)]
        centre = width * (0.5 + pose.uniform(-style.shift, style.shift))
        lean = cam.lean + pose.uniform(-0.02, 0.02)
        if tracklet:  # the detector's box moves a little from frame to frame
            hp *= rng.uniform(0.96, 1.04)
            centre += width * rng.uniform(-0.03, 0.03)
        body = Body.of(ident, view, hp, foot, facing, stride)
        yy, xx = _grid(height, width)
        _draw_person(img, ident, body, xx - centre - lean * (yy - foot), yy)
    if pose.random() < style.occlusion:
        _occlude(img, cam, pose)
    img = img @ cam.mix.T
    img *= cam.brightness * rng.uniform(0.9, 1.1)
    np.clip(img, 0.0, 1.0, out=img)
    img **= cam.gamma
    oy, ox = rng.integers(0, height + 1), rng.integers(0, width + 1)
    img += _noise_bank(height, width)[oy : oy + height, ox : ox + width] * cam.noise
    image = Image.fromarray((np.clip(img, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))
    if crop is not None:
        image = image.crop((0, 0, width, max(1, int(height * crop)))).resize((width, height))
    if cam.lowres > 1.05:
        small = (max(4, round(width / cam.lowres)), max(8, round(height / cam.lowres)))
        image = image.resize(small, Image.Resampling.BILINEAR).resize(
            (width, height), Image.Resampling.BILINEAR
        )
    radius = cam.blur * height / 128
    if radius > 0.15:
        image = image.filter(ImageFilter.GaussianBlur(radius))
    return image
