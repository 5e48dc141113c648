"""Training samples made on the fly from photos held in memory (no preprocessing step).

Photos come in one :class:`PhotoSet` per source (each ``masked/*`` folder with its object
masks, each ``sharp/*`` folder, and the photos scikit-image ships), kept at the *working
scale* of the predictor (long side <= 640 px) so blur radii in training and inference mean
the same. :class:`SceneSamples` draws a scene kind (in the shares of
:data:`~.scenes.KINDS`), a source uniformly among those with photos that can make it (no
source dominates by its size), a photo, a scale, and builds the scene on it (:mod:`.scenes`),
then augments
colour, exposure, noise and JPEG, and computes the analytic evidence the network takes.

A sample is ``(inputs, label)``: float32 (P, P, 6) = RGB in [0, 1] + the three channels of
:func:`dofkit.focus.analytic.analytic_evidence`, and a float32 (P, P) label, 1 = in focus.
:class:`SelfSupervisedSamples` is the paper's mode: any photo, target W (the eq. 3 map,
smoothed) or W x I.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError, ParameterError
from ..evaluate import IMAGE_SUFFIXES
from ..focus.analytic import filter_side
from ..focus.paper import paper_focus
from ..focus.srcnn import network_inputs
from .scenes import KINDS, NEED_SHARP_PHOTO, Cutout, make_scene, possible_kinds

WORK_SIDE = 640                  # px, long side of the working copy (as at inference)
KIND_NAMES = tuple(KINDS)
KIND_SHARES = np.array([KINDS[name] for name in KIND_NAMES]) / sum(KINDS.values())
SCALE_RANGE = (0.6, 1.0)         # training photos are used at this fraction of WORK_SIDE
CONTEXT = 16                     # px of scene built around a patch (blur and filter context)
#: scikit-image's photos (by loader name); the held-out ones are the bundled samples' sources.
SKIMAGE_TRAIN = ("rocket", "camera", "brick", "grass", "gravel", "coins", "moon", "clock",
                 "stereo_motorcycle")
SKIMAGE_HELD_OUT = ("astronaut", "coffee", "chelsea")
#: Photos that already have a shallow depth of field of their own: never "sharp all over".
SHALLOW_ORIGINALS = ("coffee", "chelsea")


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
    """Flip, colour and exposure jitter, optional Gaussian noise and JPEG re-compression."""
    if rng.random() < 0.5:
        image, label = image[:, ::-1], label[:, ::-1]
    gain = rng.uniform(0.75, 1.25, size=3).astype(np.float32) * rng.uniform(0.7, 1.3)
    image = np.clip((image - 0.5) * rng.uniform(0.7, 1.2) + 0.5 + rng.uniform(-0.08, 0.08), 0, 1)
    image = np.clip(image * gain / gain.mean(), 0.0, 1.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.4:
        image = np.clip(image + rng.normal(0, rng.uniform(0.002, 0.02), image.shape), 0, 1)
    if rng.random() < 0.4:
        quality = int(rng.integers(60, 96))
        encoded = cv2.imencode(".jpg", (image * 255 + 0.5).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
        image = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0
    return np.ascontiguousarray(image, np.float32), np.ascontiguousarray(label, np.float32)


def to_working(image: np.ndarray) -> np.ndarray:
    """``image`` area-resized so its long side is at most :data:`WORK_SIDE`, as uint8."""
    image = resize(image, WORK_SIDE / max(image.shape[:2]))
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


@dataclass
class PhotoSet:
    """The photos of one source at working scale: uint8 RGB (h, w, 3) arrays, each with an
    optional uint8 object mask (h, w) (255 = object), and their names."""

    name: str
    photos: list[np.ndarray]
    masks: list[np.ndarray | None]
    names: list[str]

    def subset(self, keep: list[int]) -> "PhotoSet":
        """The photos at the indices ``keep``, as a PhotoSet of the same name."""
        return PhotoSet(self.name, [self.photos[i] for i in keep],
                        [self.masks[i] for i in keep], [self.names[i] for i in keep])

    def split(self, fraction: float, seed: int, held: tuple[str, ...] = ()
              ) -> tuple["PhotoSet", "PhotoSet"]:
        """(train, held-out): the photos named in ``held``, else a seeded ``fraction``
        (at least 2)."""
        if held:
            chosen = [i for i, n in enumerate(self.names) if n in held]
        else:
            order = np.random.default_rng([seed, len(self.names)]).permutation(len(self.names))
            chosen = sorted(order[:max(2, int(round(len(self.names) * fraction)))].tolist())
        rest = [i for i in range(len(self.names)) if i not in set(chosen)]
        return self.subset(rest), self.subset(chosen)

    def mask(self, index: int) -> np.ndarray | None:
        """Object mask of photo ``index`` as float32 (h, w) in {0, 1}, or None."""
        mask = self.masks[index]
        return None if mask is None else (mask >= 128).astype(np.float32)

    def rgb(self, index: int) -> np.ndarray:
        """Photo ``index`` as float32 RGB in [0, 1]."""
        return self.photos[index].astype(np.float32) / 255.0

    def sharp_all_over(self, index: int) -> bool:
        """Whether photo ``index`` is known to be in focus all over: a photo without a mask
        (from a folder of sharp photos) that is not one of :data:`SHALLOW_ORIGINALS`. The
        background of a masked photo is of unknown focus."""
        return self.masks[index] is None and self.names[index] not in SHALLOW_ORIGINALS


def load_masked(folder: Path) -> PhotoSet:
    """A ``masked/*`` folder (``img/`` + ``mask/`` of the same stems) as a PhotoSet."""
    photos, masks, names = [], [], []
    for photo, mask in masked_pairs(folder):
        image = read_rgb(photo)
        photos.append(to_working(image))
        matte = cv2.resize(read_mask(mask), photos[-1].shape[1::-1], interpolation=cv2.INTER_AREA)
        masks.append((matte * 255 + 0.5).astype(np.uint8))
        names.append(photo.stem)
    return PhotoSet(folder.name, photos, masks, names)


def load_sharp(folder: Path) -> PhotoSet:
    """A folder of photos sharp all over as a PhotoSet (no masks)."""
    paths = list_images(folder)
    return PhotoSet(folder.name, [to_working(read_rgb(p)) for p in paths], [None] * len(paths),
                    [p.stem for p in paths])


def load_skimage(names: tuple[str, ...] = SKIMAGE_TRAIN + SKIMAGE_HELD_OUT) -> PhotoSet:
    """The photos scikit-image ships (grey ones as grey RGB) as a PhotoSet named ``skimage``."""
    from skimage import data

    photos = []
    for name in names:
        image = getattr(data, name)()
        image = image[0] if isinstance(image, tuple) else image
        image = np.repeat(image[:, :, None], 3, 2) if image.ndim == 2 else image[:, :, :3]
        photos.append(to_working(image.astype(np.float32) / 255.0))
    return PhotoSet("skimage", photos, [None] * len(names), list(names))


def cutouts_of(sets: list[PhotoSet], side: int = 320) -> list[Cutout]:
    """Every masked object of ``sets`` cut to its bounding box (long side <= ``side``)."""
    cutouts = []
    for photo_set in sets:
        for index in range(len(photo_set.photos)):
            mask = photo_set.mask(index)
            if mask is None or mask.max() == 0:
                continue
            ys, xs = np.nonzero(mask)
            box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
            scale = min(1.0, side / max(np.ptp(ys) + 1, np.ptp(xs) + 1))
            cutouts.append(Cutout(resize(photo_set.rgb(index)[box], scale),
                                  resize(mask[box], scale)))
    return cutouts


@dataclass
class SceneSamples:
    """Generator of supervised samples (see module docstring): ``sets`` of photos, patches of
    ``patch`` px, objects to paste from ``cutouts``."""

    sets: list[PhotoSet]
    cutouts: list[Cutout]
    patch: int = 224

    def __post_init__(self):
        if isinstance(self.patch, bool) or not isinstance(self.patch, int) \
                or not 1 <= self.patch <= WORK_SIDE:
            raise ParameterError(f"patch must be a whole number of px from 1 to {WORK_SIDE} "
                                 f"(the working size); got {self.patch!r}", "patch")
        if not self.sets or not any(s.photos for s in self.sets):
            raise ImageError("training needs photos")
        self.sets = [s for s in self.sets if s.photos]
        # Photos smaller than a patch are left out (upscaled, a sharp photo turns soft and
        # would teach that softness is sharp), unless a source has none as large.
        self.usable: list[list[int]] = []  # per set, the indices of the photos drawn
        for photo_set in self.sets:
            fitting = [i for i, photo in enumerate(photo_set.photos)
                       if min(photo.shape[:2]) >= self.patch]
            self.usable.append(fitting or list(range(len(photo_set.photos))))
        # per set, those sharp all over: the only ones that make kinds showing their own
        # background sharp (so these kinds keep their share whatever the sources)
        self.sharp_usable = [[i for i in usable if photo_set.sharp_all_over(i)]
                             for photo_set, usable in zip(self.sets, self.usable)]

    def __call__(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One (inputs (P, P, 6), label (P, P)) sample drawn with ``rng``."""
        kind = KIND_NAMES[int(rng.choice(len(KIND_NAMES), p=KIND_SHARES))]
        pools = self.sharp_usable if kind in NEED_SHARP_PHOTO else self.usable
        if not any(pools):  # no photo sharp all over: a kind the photo can make
            kind, pools = None, self.usable
        sources = [i for i, pool in enumerate(pools) if pool]
        source = sources[int(rng.integers(len(sources)))]
        photo_set, usable = self.sets[source], pools[source]
        index = usable[int(rng.integers(len(usable)))]
        image, mask = photo_set.rgb(index), photo_set.mask(index)
        scale = WORK_SIDE / max(image.shape[:2]) * rng.uniform(*SCALE_RANGE)
        scale = max(scale, self.patch / min(image.shape[:2]))  # no smaller than a patch
        image = resize(image, min(1.0, scale))
        mask = None if mask is None else resize(mask, min(1.0, scale))
        if min(image.shape[:2]) < self.patch:  # a source with no photo as large as a patch
            grow = self.patch / min(image.shape[:2])
            image = np.clip(cv2.resize(image, None, fx=grow, fy=grow,
                                       interpolation=cv2.INTER_CUBIC), 0, 1)
            mask = None if mask is None else cv2.resize(mask, image.shape[1::-1])
        side = filter_side(image.shape)
        rows, cols, top, left = random_window(image.shape, self.patch, CONTEXT, rng)
        mask = None if mask is None else mask[rows, cols]
        sharp = photo_set.sharp_all_over(index)
        if kind not in possible_kinds(sharp, mask is not None and mask.max() > 0,
                                      bool(self.cutouts)):
            kind = None  # e.g. no object in the window and nothing to paste: make_scene picks
        scene, label = make_scene(image[rows, cols], mask, self.cutouts, rng, kind, sharp)
        scene, label = augment(scene, label, rng)
        inputs = network_inputs(scene, side)
        crop = (slice(top, top + self.patch), slice(left, left + self.patch))
        return (np.ascontiguousarray(inputs[crop]),
                np.ascontiguousarray((label[crop] >= 0.5).astype(np.float32)))


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
