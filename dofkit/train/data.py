"""Training samples made on the fly from folders of photos (no preprocessing step).

A sample is ``(image, label)``: float32 RGB (P, P, 3) in [0, 1] and a float32 (P, P) target,
cut at the *working scale* of :class:`dofkit.focus.srcnn.SrcnnPredictor` (long side <= 640 px)
so blur radii in training and inference mean the same.

Kinds of focus sample (:class:`FocusSamples`), label 1 = in focus:

- ``composite``: a photo with an object mask, background disc-blurred in linear light
  (:func:`dofkit.synth.composite`, random radius and soft boundary); label = mask.
- ``inverted``: the same with the subject blurred and the background sharp; label = 1 - mask.
- ``foreign``: a fully sharp photo blurred outside a mask borrowed from another photo.
- ``sharp``: a fully sharp photo, label all ones.
- ``blurred``: a photo defocused all over, label all zeros.

Then augmentation: horizontal flips, colour jitter, optional noise and JPEG re-compression.
:class:`SelfSupervisedSamples` is the paper's mode: any photo, target W (the eq. 3 map,
smoothed) or W x I.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError
from ..evaluate import IMAGE_SUFFIXES
from ..focus.paper import paper_focus
from ..synth import composite, defocus

WORK_SIDE = 640                  # px, long side of the working copy (as at inference)
RADIUS_RANGE = (1.2, 10.0)       # px at working scale, disc PSF radius (log-uniform)
KIND_WEIGHTS = {"composite": 0.4, "inverted": 0.1, "foreign": 0.15, "sharp": 0.17, "blurred": 0.18}


def list_images(folder: Path) -> list[Path]:
    """Sorted image files in ``folder``; ImageError if it is missing or holds none."""
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder")
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise ImageError(f"{folder}: no images found")
    return found


def masked_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(photo, mask) pairs of a folder laid out as ``img/`` + ``mask/`` (same stems)."""
    masks = {p.stem: p for p in list_images(folder / "mask")}
    return [(p, masks[p.stem]) for p in list_images(folder / "img") if p.stem in masks]


def split(items: list, validation_fraction: float, seed: int) -> tuple[list, list]:
    """Seeded shuffle of ``items`` into (train, validation)."""
    order = np.random.default_rng(seed).permutation(len(items))
    count = int(round(len(items) * validation_fraction))
    return [items[i] for i in order[count:]], [items[i] for i in order[:count]]


def read_rgb(path: Path) -> np.ndarray:
    """Photo -> float32 RGB (H, W, 3) in [0, 1] (fast cv2 decode; ImageError if unreadable)."""
    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        raise ImageError(f"{path}: not a readable image")
    return cv2.cvtColor(data, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def read_mask(path: Path) -> np.ndarray:
    """Mask (255 = object) -> float32 (H, W) in {0, 1}."""
    data = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if data is None:
        raise ImageError(f"{path}: not a readable mask")
    return (data >= 128).astype(np.float32)


def working_scale(shape: tuple[int, ...], rng: np.random.Generator) -> float:
    """Downscale factor (<= 1) to a random working size at most :data:`WORK_SIDE` long."""
    return min(1.0, WORK_SIDE / max(shape[:2])) * rng.uniform(0.6, 1.0)


def resize(values: np.ndarray, scale: float) -> np.ndarray:
    """Area-downscale ``values`` by ``scale`` (<= 1)."""
    if scale >= 1.0:
        return values
    size = (max(1, round(values.shape[1] * scale)), max(1, round(values.shape[0] * scale)))
    return cv2.resize(values, size, interpolation=cv2.INTER_AREA)


def random_window(shape: tuple[int, ...], patch: int, margin: int,
                  rng: np.random.Generator) -> tuple[slice, slice, int, int]:
    """A patch-sized window plus up to ``margin`` px of context each side, inside ``shape``.
    Returns (rows, cols, top, left): the context window and the patch offset inside it."""
    height, width = shape[:2]
    y = int(rng.integers(0, height - patch + 1))
    x = int(rng.integers(0, width - patch + 1))
    y0, x0 = max(0, y - margin), max(0, x - margin)
    y1, x1 = min(height, y + patch + margin), min(width, x + patch + margin)
    return slice(y0, y1), slice(x0, x1), y - y0, x - x0


def augment(image: np.ndarray, label: np.ndarray, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    """Flip, colour jitter, optional Gaussian noise and JPEG re-compression."""
    if rng.random() < 0.5:
        image, label = image[:, ::-1], label[:, ::-1]
    gain = rng.uniform(0.75, 1.25, size=3).astype(np.float32) * rng.uniform(0.8, 1.2)
    image = np.clip((image - 0.5) * rng.uniform(0.8, 1.2) + 0.5 + rng.uniform(-0.08, 0.08), 0, 1)
    image = np.clip(image * gain / gain.mean(), 0.0, 1.0)
    if rng.random() < 0.4:
        image = np.clip(image + rng.normal(0, rng.uniform(0.002, 0.02), image.shape), 0, 1)
    if rng.random() < 0.4:
        quality = int(rng.integers(60, 96))
        encoded = cv2.imencode(".jpg", (image * 255 + 0.5).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
        image = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0
    return np.ascontiguousarray(image, np.float32), np.ascontiguousarray(label, np.float32)


@dataclass
class FocusSamples:
    """Generator of supervised focus samples (see module docstring).

    masked : (photo, mask) pairs; sharp : photos sharp all over; patch : side in px.
    """

    masked: list[tuple[Path, Path]]
    sharp: list[Path]
    patch: int = 192
    kinds: dict[str, float] = field(default_factory=lambda: dict(KIND_WEIGHTS))

    def __post_init__(self):
        if not self.masked or not self.sharp:
            raise ImageError("training needs at least one masked photo and one sharp photo")

    def __call__(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One (image (P, P, 3), label (P, P)) sample drawn with ``rng``."""
        names = list(self.kinds)
        weights = np.array([self.kinds[n] for n in names], float)
        kind = names[rng.choice(len(names), p=weights / weights.sum())]
        radius = math.exp(rng.uniform(*np.log(RADIUS_RANGE)))
        image, mask = self._pick(kind, rng)
        scale = working_scale(image.shape, rng)
        image, mask = resize(image, scale), resize(mask, scale)
        if min(image.shape[:2]) < self.patch:  # small photo: upscale minimally (rare)
            grow = self.patch / min(image.shape[:2])
            image = cv2.resize(image, None, fx=grow, fy=grow, interpolation=cv2.INTER_CUBIC)
            mask = cv2.resize(mask, None, fx=grow, fy=grow, interpolation=cv2.INTER_LINEAR)
            image = np.clip(image, 0, 1)
        rows, cols, top, left = random_window(image.shape, self.patch, int(radius) + 4, rng)
        image, mask = image[rows, cols], mask[rows, cols]
        if kind in ("composite", "foreign"):
            image = composite(image, mask, radius, rng.uniform(0.5, 3.0))
            label = mask
        elif kind == "inverted":
            image = composite(image, 1.0 - mask, radius, rng.uniform(0.5, 3.0))
            label = 1.0 - mask
        elif kind == "sharp":
            label = np.ones(mask.shape, np.float32)
        else:
            image = defocus(image, radius)
            label = np.zeros(mask.shape, np.float32)
        crop = (slice(top, top + self.patch), slice(left, left + self.patch))
        return augment(image[crop], (label[crop] >= 0.5).astype(np.float32), rng)

    def _pick(self, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if kind in ("composite", "inverted"):
            photo, mask = self.masked[rng.integers(len(self.masked))]
            image = read_rgb(photo)
            return image, _fit(read_mask(mask), image.shape)
        image = read_rgb(self.sharp[rng.integers(len(self.sharp))])
        if kind == "foreign":
            _, mask = self.masked[rng.integers(len(self.masked))]
            return image, _fit(read_mask(mask), image.shape)
        if kind == "blurred" and rng.random() < 0.5:
            image = read_rgb(self.masked[rng.integers(len(self.masked))][0])
        return image, np.ones(image.shape[:2], np.float32)


def _fit(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``mask`` resized to the (H, W) of ``shape`` if it differs."""
    if mask.shape != shape[:2]:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return mask


TARGET_SMOOTH_SIGMA = 2.0  # px, the paper's extra smoothing of W "to raise the convergence rate"


@dataclass
class SelfSupervisedSamples:
    """The paper's pairs: patches of any photo with target W (eq. 3 map, smoothed, (P, P, 1))
    or W x I ((P, P, 3)). Photos are read once and kept at working scale."""

    photos: list[Path]
    target: str = "w"
    patch: int = 33

    def __post_init__(self):
        if self.target not in ("w", "wi"):
            raise ValueError("target must be 'w' or 'wi'")
        self._pairs = []
        for path in self.photos:
            image = read_rgb(path)
            image = resize(image, min(1.0, WORK_SIDE / 2 / max(image.shape)))
            weight = cv2.GaussianBlur(paper_focus(image), (0, 0), TARGET_SMOOTH_SIGMA)
            self._pairs.append((image, weight))

    def __call__(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        image, weight = self._pairs[rng.integers(len(self._pairs))]
        rows, cols, _, _ = random_window(image.shape, self.patch, 0, rng)
        crop = image[rows, cols]
        target = weight[rows, cols, None]
        if self.target == "wi":
            target = target * crop
        return np.ascontiguousarray(crop), np.ascontiguousarray(target, np.float32)
