"""Clothing palettes and the named domain styles of the synthetic generator.

The palettes are small on purpose: an identity's top is (colour, pattern) and its bottom is
(colour, type), both drawn from a few dozen options, so many identities share their top or
their bottom. Those pairs look alike in one body half and differ in the other, which is
where the global and the local feature spaces disagree (paper Figure 3).

A domain style fixes what its cameras can look like (scenes, colour casts, light, blur,
noise, resolution, viewpoint, occlusion) and what its people wear (a clothing prior), so
three styles stand in for the domain gaps between Market-1501, DukeMTMC-reID and MSMT17.

Cameras of one domain differ about as much as real ones (generator version 3). The share of
an image's mean colour and lightness that its camera decides
(``domain_stats.camera_colour_share``: log R/G, log B/G, log lightness) is 0.08 / 0.13 / 0.09
on 96 real Market-1501 images; version 2's styles, with three to five scene palettes per
domain, casts of 6-12 % and wide light ranges, gave 0.54-0.96, so a source model's nearest
neighbours of a target image were its camera's images, clusters stayed within one camera and
fine-tuning on them lost mAP (docs/DEMO_EFFECT.md). Each domain now keeps one scene palette,
a quarter of the cast and a third of the brightness and gamma ranges (0.12-0.53); the gap
between domains is unchanged.

Boxes are tight, as a detector's are (generator version 4): a person fills 0.8-1.0 of the
frame's height with the waist near mid-height, where version 3 left a sixth of the frame above
the head and the waist at 58 %, so the lower half of the feature map saw both garments and the
upper half mostly background (``benchmarks/synthetic_stats.py`` measures the halves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGB = tuple[float, float, float]

# name -> RGB in 0..1. Tops and bottoms have separate palettes, as real wardrobes do.
TOP_COLOURS: dict[str, RGB] = {
    "red": (0.80, 0.12, 0.12),
    "orange": (0.92, 0.50, 0.12),
    "yellow": (0.93, 0.82, 0.20),
    "green": (0.18, 0.55, 0.25),
    "light_blue": (0.50, 0.70, 0.90),
    "blue": (0.15, 0.30, 0.75),
    "navy": (0.10, 0.13, 0.30),
    "purple": (0.45, 0.22, 0.55),
    "pink": (0.93, 0.55, 0.68),
    "white": (0.92, 0.92, 0.90),
    "grey": (0.50, 0.50, 0.52),
    "black": (0.08, 0.08, 0.09),
}
# The second colour of stripes, logos and colour blocks depends only on the main colour, so
# "a navy striped top" is one look shared by every identity that wears it.
TOP_SECOND: dict[str, str] = {
    "red": "white",
    "orange": "navy",
    "yellow": "black",
    "green": "white",
    "light_blue": "navy",
    "blue": "white",
    "navy": "white",
    "purple": "yellow",
    "pink": "white",
    "white": "red",
    "grey": "black",
    "black": "white",
}
TOP_PATTERNS: tuple[str, ...] = ("solid", "stripes", "logo", "colour_block")
BOTTOM_COLOURS: dict[str, RGB] = {
    "black": (0.07, 0.07, 0.08),
    "navy": (0.12, 0.15, 0.32),
    "denim": (0.25, 0.36, 0.55),
    "grey": (0.42, 0.42, 0.45),
    "khaki": (0.62, 0.55, 0.38),
    "beige": (0.85, 0.80, 0.68),
    "brown": (0.38, 0.24, 0.14),
    "red": (0.55, 0.10, 0.12),
}
BOTTOM_TYPES: tuple[str, ...] = ("trousers", "shorts", "skirt")
SHOE_COLOURS: tuple[RGB, ...] = (
    (0.06, 0.06, 0.06),
    (0.92, 0.92, 0.92),
    (0.40, 0.24, 0.12),
    (0.70, 0.15, 0.15),
)
HAIR_COLOURS: tuple[RGB, ...] = (
    (0.05, 0.04, 0.03),
    (0.25, 0.15, 0.07),
    (0.70, 0.55, 0.28),
    (0.55, 0.55, 0.55),
)
SKIN_COLOURS: tuple[RGB, ...] = (
    (0.96, 0.80, 0.68),
    (0.85, 0.65, 0.50),
    (0.65, 0.45, 0.32),
    (0.42, 0.28, 0.20),
)
BAG_TYPES: tuple[str, ...] = ("none", "backpack", "handbag")
BAG_COLOURS: tuple[RGB, ...] = (
    (0.10, 0.10, 0.10),
    (0.35, 0.22, 0.12),
    (0.20, 0.30, 0.55),
    (0.70, 0.15, 0.20),
    (0.80, 0.75, 0.65),
)
VIEWS: tuple[str, ...] = ("front", "back", "side")


@dataclass(frozen=True)
class DomainStyle:
    """Ranges a domain's cameras and people are drawn from (all sizes relative to height)."""

    description: str
    num_cameras: int  # default camera count when a spec does not set one
    sky_palette: tuple[RGB, ...]  # upper scene colours (walls, foliage, sky)
    ground_palette: tuple[RGB, ...]  # floor / road colours
    clutter: int  # scene blocks (buildings, windows, pillars) per camera
    clutter_contrast: float  # 0: blocks take the scene's colour, 1: their own palette colour
    texture: float  # amplitude of low-frequency scene texture
    cast: float  # std of the per-camera colour-mixing deviation from identity
    brightness: tuple[float, float]
    gamma: tuple[float, float]
    blur: tuple[float, float]  # Gaussian radius in pixels at 128 px height
    lowres: tuple[float, float]  # down-sampling factor a camera's sensor applies
    noise: float  # std of pixel noise
    scale: tuple[float, float]  # person height / image height (before the body's own
    # height factor; a head is never cut off by the box's top edge)
    shift: float  # horizontal jitter of the person, relative to image width
    shear: float  # max lean from camera tilt (x shift per unit of height)
    occlusion: float  # probability that an object hides part of the person
    view_bias: float  # Dirichlet concentration of each camera's front/back/side mix
    dark_clothes: float  # > 0 favours dark garments (winter), < 0 bright ones (summer)
    bottom_weights: tuple[float, float, float]  # trousers, shorts, skirt
    long_sleeves: float  # probability of long sleeves

    def colour_weights(self, palette: dict[str, RGB]) -> np.ndarray:
        """Sampling weights of a palette under the domain's clothing prior."""
        lum = np.array([0.3 * r + 0.59 * g + 0.11 * b for r, g, b in palette.values()])
        weights = np.exp(self.dark_clothes * (0.5 - lum))
        return weights / weights.sum()


DOMAIN_STYLES: dict[str, DomainStyle] = {
    "synth_a": DomainStyle(
        description="summer campus (stands in for Market-1501): bright, green and paved "
        "scenes, sharp, light clothes, shorts and skirts common",
        num_cameras=6,
        sky_palette=((0.45, 0.58, 0.38),),
        ground_palette=((0.60, 0.58, 0.55),),
        clutter=3,
        clutter_contrast=0.35,
        texture=0.05,
        cast=0.015,
        brightness=(1.017, 1.083),
        gamma=(0.967, 1.033),
        blur=(0.2, 0.6),
        lowres=(1.0, 1.2),
        noise=0.015,
        scale=(0.90, 1.06),
        shift=0.06,
        shear=0.04,
        occlusion=0.05,
        view_bias=2.0,
        dark_clothes=-1.0,
        bottom_weights=(0.45, 0.35, 0.20),
        long_sleeves=0.3,
    ),
    "synth_b": DomainStyle(
        description="winter campus (stands in for DukeMTMC-reID): snowy scenes, bluish "
        "light, dimmer and blurrier, more occlusion, dark clothes, mostly trousers",
        num_cameras=8,
        sky_palette=((0.80, 0.82, 0.86),),
        ground_palette=((0.86, 0.88, 0.92),),
        clutter=4,
        clutter_contrast=0.5,
        texture=0.07,
        cast=0.03,
        brightness=(0.784, 0.866),
        gamma=(1.05, 1.15),
        blur=(0.5, 1.1),
        lowres=(1.0, 1.5),
        noise=0.025,
        scale=(0.84, 1.06),
        shift=0.09,
        shear=0.06,
        occlusion=0.18,
        view_bias=1.0,
        dark_clothes=2.5,
        bottom_weights=(0.85, 0.03, 0.12),
        long_sleeves=0.9,
    ),
    "synth_c": DomainStyle(
        description="many cameras (stands in for MSMT17): warm indoor scenes, low "
        "resolution and noise, wide scale range, mixed clothes",
        num_cameras=12,
        sky_palette=((0.78, 0.66, 0.48),),
        ground_palette=((0.55, 0.45, 0.35),),
        clutter=6,
        clutter_contrast=0.6,
        texture=0.08,
        cast=0.03,
        brightness=(0.801, 0.949),
        gamma=(0.967, 1.083),
        blur=(0.2, 1.0),
        lowres=(1.0, 1.8),
        noise=0.035,
        scale=(0.77, 1.07),
        shift=0.12,
        shear=0.08,
        occlusion=0.10,
        view_bias=0.7,
        dark_clothes=1.0,
        bottom_weights=(0.65, 0.15, 0.20),
        long_sleeves=0.6,
    ),
}
