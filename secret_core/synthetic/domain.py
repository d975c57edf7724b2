"""Synthetic Re-ID domains written to disk in Market-1501 layout.

Real Re-ID datasets cannot be shipped, so the demo and the tests run on generated domains
with the structure SECRET is about (see ``synthetic_styles``: shared tops and bottoms) and
with the evaluation protocol's quirks: disjoint train/test identities, one query per
identity in some of its cameras, gallery distractors (pid 0) and junk boxes (pid -1) that
the reader must drop. ``read_dataset(out_dir, "market1501")`` reads a domain back.

Generation is deterministic: every shot draws from its own seed derived from (spec seed,
identity, camera, shot), so the images do not depend on generation order or on the number
of worker processes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from secret_core.data.readers import read_dataset
from secret_core.data.records import ReidDataset
from secret_core.errors import SecretError
from secret_core.io import write_json
from secret_core.synthetic.render import Camera, Identity, render, sample_cameras
from secret_core.synthetic.render import sample_identities as _sample_identities
from secret_core.synthetic.styles import DOMAIN_STYLES, DomainStyle
from secret_core.synthetic.version import GENERATOR_VERSION

MARKER = "synthetic.json"
JPEG_QUALITY = 90
_TMP_TAG = ".synthetic-tmp-"


@dataclass
class SyntheticDomainSpec:
    """Knobs of one synthetic domain (a ``synthetic:`` block of the config).

    ``num_ids`` training identities and ``num_test_ids`` separate test identities, each seen
    by 2+ of ``num_cameras`` cameras (None: the style's own count) with
    ``images_per_id_per_camera`` shots per camera: an int, or ``[lo, hi]`` drawn per
    identity and camera. ``style`` names a :data:`DOMAIN_STYLES` entry (the "domain").

    ``tracklet_length`` > 1 groups an identity's consecutive shots in one camera into
    tracklets of up to that many frames that share the camera crop, view, scale, position
    and occluder and differ by the walking stride, a few pixels of detector jitter and the
    sensor noise: real training splits are sampled from tracklets (near-duplicate frames),
    while 1 (the default) renders every shot independently, as before tracklets existed.
    """

    name: str
    style: str = "synth_a"
    seed: int = 0
    num_ids: int = 100
    num_test_ids: int = 100
    num_cameras: int | None = None
    images_per_id_per_camera: int | tuple[int, int] | list[int] = 2
    height: int = 128
    width: int = 64
    tracklet_length: int = 1

    def cameras(self) -> int:
        """The camera count, resolved against the style's default."""
        if self.num_cameras is not None:
            return int(self.num_cameras)
        return DOMAIN_STYLES[self.style].num_cameras if self.style in DOMAIN_STYLES else 0

    def shots_range(self) -> tuple[int, int]:
        """(lo, hi), inclusive, of shots per identity per camera."""
        value = self.images_per_id_per_camera
        if isinstance(value, int | np.integer):
            return int(value), int(value)
        lo, hi = value  # validated to be a pair
        return int(lo), int(hi)

    def validate(self) -> None:
        """One-line SecretError naming the bad key and the fix."""
        where = f"synthetic domain '{self.name}'"
        if self.style not in DOMAIN_STYLES:
            raise SecretError(
                f"{where}: unknown style '{self.style}'; use one of {', '.join(DOMAIN_STYLES)}"
            )
        shots = self.images_per_id_per_camera
        pair = isinstance(shots, list | tuple) and len(shots) == 2
        if not (isinstance(shots, int | np.integer) or pair):
            raise SecretError(
                f"{where}: images_per_id_per_camera must be an int or [lo, hi], got {shots!r}"
            )
        lo, hi = self.shots_range()
        checks = [
            ("seed", self.seed >= 0, "a non-negative integer"),
            ("num_ids", self.num_ids >= 1, "at least 1"),
            ("num_test_ids", self.num_test_ids >= 1, "at least 1"),
            ("num_cameras", 2 <= self.cameras() <= 99, "between 2 and 99"),
            ("images_per_id_per_camera", 1 <= lo <= hi, "at least 1 (and lo <= hi)"),
            ("height", self.height >= 16, "at least 16"),
            ("width", self.width >= 8, "at least 8"),
            ("tracklet_length", self.tracklet_length >= 1, "at least 1"),
        ]
        for key, ok, need in checks:
            if not ok:
                raise SecretError(f"{where}: {key} must be {need}; fix it in the config")


class Shot(NamedTuple):
    """One image to render: where it goes and what seeds it."""

    folder: str
    name: str
    person: int  # index into the people list, or -1 for an empty scene
    cam: int
    key: tuple[int, ...]  # seed parts, unique per shot
    crop: float | None = None
    track: tuple[int, ...] | None = None  # seed parts of the shot's tracklet (pose), if any


def _seed(spec: SyntheticDomainSpec, *parts: int) -> np.random.Generator:
    """A generator for one purpose of one domain; the style takes part so that two domains
    of different styles never share their people even with the same seed."""
    return np.random.default_rng([spec.seed, zlib.crc32(spec.style.encode()), *parts])


def _market_name(pid: int, cam: int, frame: int, box: int) -> str:
    """Market-1501 naming ``PPPP_cCsS_FFFFFF_NN.jpg`` (junk is written as ``-1_c...``)."""
    pid_text = "-1" if pid < 0 else f"{pid:04d}"
    return f"{pid_text}_c{cam + 1}s1_{frame:06d}_{box:02d}.jpg"


def _plan(spec: SyntheticDomainSpec, num_extra: int) -> list[Shot]:
    """Every shot of the domain: train, query/gallery split, distractors and junk."""
    num_cams, (lo, hi) = spec.cameras(), spec.shots_range()
    rng = _seed(spec, 3)
    popularity = rng.dirichlet([3.0] * num_cams)  # some cameras see more people
    frames = rng.integers(1, 5000, num_cams)
    shots: list[Shot] = []

    def next_frame(cam: int) -> int:
        frames[cam] += rng.integers(5, 120)
        return int(frames[cam])

    for person in range(spec.num_ids + spec.num_test_ids):
        pid, test = person + 1, person >= spec.num_ids
        n_cams = 2 + int(rng.binomial(min(num_cams - 2, 4), 0.35))
        cams = sorted(rng.choice(num_cams, size=n_cams, replace=False, p=popularity).tolist())
        # at least one camera stays wholly in the gallery, so every query has a match there
        n_query = min(n_cams - 1, 1 + int(rng.random() < 0.5)) if test else 0
        query_cams = set(rng.choice(cams, size=n_query, replace=False).tolist())
        for cam in cams:
            for shot in range(int(rng.integers(lo, hi + 1))):
                is_query = cam in query_cams and shot == 0
                folder = "bounding_box_train" if not test else "bounding_box_test"
                folder = "query" if is_query else folder
                name = _market_name(pid, cam, next_frame(cam), 0 if is_query else shot + 1)
                track = None
                if spec.tracklet_length > 1:  # a query frame is its tracklet's first frame
                    track = (4, person, cam, shot // spec.tracklet_length)
                shots.append(Shot(folder, name, person, cam, (1, person, cam, shot), None, track))
    first_extra = spec.num_ids + spec.num_test_ids
    for j in range(num_extra):  # distractors: people outside train and test, gallery only
        cam = int(rng.integers(num_cams))
        name = _market_name(0, cam, next_frame(cam), 1)
        shots.append(Shot("bounding_box_test", name, first_extra + j, cam, (2, j)))
    for j in range(num_extra):  # junk: empty scenes and badly cut boxes
        cam = int(rng.integers(num_cams))
        person = first_extra + j if j % 2 else -1
        crop = float(rng.uniform(0.3, 0.55)) if j % 2 else None
        name = _market_name(-1, cam, next_frame(cam), 1)
        shots.append(Shot("bounding_box_test", name, person, cam, (3, j), crop))
    return shots


# Worker state: set once per process, so shots can be sent without the heavy cameras.
_STATE: dict[str, Any] = {}


def _init_worker(spec: SyntheticDomainSpec, people: list[Identity], cams: list[Camera]) -> None:
    _STATE.update(spec=spec, people=people, cams=cams, style=DOMAIN_STYLES[spec.style])


def _render_shots(folder: str, shots: list[Shot]) -> int:
    spec: SyntheticDomainSpec = _STATE["spec"]
    style: DomainStyle = _STATE["style"]
    for shot in shots:
        rng = _seed(spec, 5, *shot.key)
        pose_rng = None if shot.track is None else _seed(spec, 5, *shot.track)
        ident = None if shot.person < 0 else _STATE["people"][shot.person]
        image = render(
            ident,
            _STATE["cams"][shot.cam],
            style,
            spec.height,
            spec.width,
            rng,
            shot.crop,
            pose_rng=pose_rng,
        )
        image.save(Path(folder) / shot.folder / shot.name, quality=JPEG_QUALITY)
    return len(shots)


def _spec_json(spec: SyntheticDomainSpec) -> dict[str, Any]:
    """The spec as its JSON round trip, so a tuple and a list of the same values compare
    equal when the marker is checked. ``tracklet_length`` 1 is left out: such specs keep
    the form they had before tracklets existed."""
    data = asdict(spec)
    data["num_cameras"] = spec.cameras()
    if spec.tracklet_length == 1:
        del data["tracklet_length"]
    return json.loads(json.dumps(data))


def _is_complete(out: Path, spec: SyntheticDomainSpec) -> bool:
    marker = out / MARKER
    if not marker.is_file():
        return False
    try:
        content = json.loads(marker.read_text())
    except json.JSONDecodeError:
        return False
    return content.get("generator_version") == GENERATOR_VERSION and content.get(
        "spec"
    ) == _spec_json(spec)


def _check_replaceable(out: Path) -> None:
    """Only ever delete a folder this generator wrote (or an empty one)."""
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise SecretError(
            f"{out} exists and is not a synthetic domain (no {MARKER}); move it away or "
            "choose another output folder"
        )
    if out.exists() and not out.is_dir():
        raise SecretError(f"{out} is a file; remove it or choose another output folder")


def _render_all(
    spec: SyntheticDomainSpec,
    people: list[Identity],
    cams: list[Camera],
    shots: list[Shot],
    tmp: Path,
    workers: int,
) -> None:
    if workers <= 1:
        _init_worker(spec, people, cams)
        _render_shots(str(tmp), shots)
        return
    chunks = [shots[i : i + 200] for i in range(0, len(shots), 200)]
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context(method),
        initializer=_init_worker,
        initargs=(spec, people, cams),
    ) as pool:
        for _ in pool.map(_render_shots, [str(tmp)] * len(chunks), chunks):
            pass


def generate_domain(
    spec: SyntheticDomainSpec, out_dir: str | os.PathLike, *, workers: int = 1
) -> ReidDataset:
    """Write the domain under ``out_dir`` (Market layout) unless it is already there.

    Idempotent: a complete domain (its ``synthetic.json`` marker, written last, matches the
    spec and generator version) is only re-read. Images go to a temporary sibling folder
    that is renamed into place at the end, so a killed run never leaves a half domain.
    ``workers`` > 1 renders in that many processes; the images are identical either way.
    """
    spec.validate()
    out = Path(out_dir)
    if not _is_complete(out, spec):
        _check_replaceable(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        for stale in out.parent.glob(f".{out.name}{_TMP_TAG}*"):  # from killed runs
            shutil.rmtree(stale, ignore_errors=True)
        _build(spec, out, workers)
    dataset = read_dataset(out, "market1501")
    dataset.name = spec.name
    return dataset


def _build(spec: SyntheticDomainSpec, out: Path, workers: int) -> None:
    style = DOMAIN_STYLES[spec.style]
    num_extra = max(2, spec.num_test_ids // 10)
    people = domain_identities(spec)
    cams = sample_cameras(style, spec.cameras(), _seed(spec, 2), spec.height, spec.width)
    shots = _plan(spec, num_extra)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}{_TMP_TAG}", dir=out.parent))
    try:
        for folder in ("bounding_box_train", "bounding_box_test", "query"):
            (tmp / folder).mkdir()
        _render_all(spec, people, cams, shots, tmp, workers)
        stats = read_dataset(tmp, "market1501").stats()
        write_json(
            tmp / MARKER,
            {
                "generator_version": GENERATOR_VERSION,
                "spec": _spec_json(spec),
                "style": style.description,
                "stats": stats,
            },
        )
        if out.exists():
            old = out.with_name(f".{out.name}{_TMP_TAG}old")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def domain_identities(spec: SyntheticDomainSpec) -> list[Identity]:
    """The people of a domain as :func:`generate_domain` draws them: index ``pid - 1`` is
    the identity written with that pid (training identities first, then test ones), so
    measurements can join file names with clothing (``domain_stats.clothing_sharing``)."""
    num_extra = max(2, spec.num_test_ids // 10)
    style = DOMAIN_STYLES[spec.style]
    return _sample_identities(spec.num_ids + spec.num_test_ids + num_extra, style, _seed(spec, 1))


def sample_identities(count: int, rng: np.random.Generator, style: str = "synth_a"):
    """Identities of a named style (a convenience for tests and notebooks)."""
    return _sample_identities(count, DOMAIN_STYLES[style], rng)
