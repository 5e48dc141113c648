"""Synthetic depth-of-field scenes: layers of photo content, each with its own blur.

A scene is built on one photo at working scale (float32 RGB (h, w, 3) in [0, 1]) and returns
``(image, label)``: the rendered photo and a float32 (h, w) label, 1 = in focus. Every layer
(the photo itself as the background, objects cut from it by a mask, objects pasted from other
photos) is either sharp (radius 0, or a hint of softness) or defocused by a disc or Gaussian
PSF in linear light; layers are composited back to front with their blurred mattes, and the
label of a pixel is the state of the front-most layer covering it. A region without texture
(a sky band, a wall, a studio backdrop) takes its label from its layer, so the network must
judge it from context.

Kinds (:data:`KINDS`): ``shallow`` (sharp object, blurred background), ``inverted`` (blurred
object, sharp background), ``layers`` (three depth layers with graded blur), ``backdrop`` (a
sharp subject before a flat, defocused backdrop), ``sharp`` (everything sharp) and
``blurred`` (everything defocused).

A label says "sharp" only where the content is known to be in focus: a photo sharp all over,
a masked object, a pasted cutout. The rest of a masked photo (people and horses: often a
portrait's defocused background) is of unknown focus, so it is only ever used blurred: such
a photo makes no ``inverted`` or ``sharp`` scene (:data:`NEED_SHARP_PHOTO`) and gives no
random-shape sharp object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..synth import disc_kernel, linear_to_srgb, srgb_to_linear

KINDS = {"shallow": 0.34, "inverted": 0.08, "layers": 0.16, "backdrop": 0.06, "sharp": 0.18,
         "blurred": 0.18}
BLUR_RANGE = (2.0, 12.0)     # px at working scale: disc radius of a defocused layer (log-uniform)
SOFT_SIGMA = (0.3, 0.6)      # px: Gaussian softness a sharp layer may have (still label 1)
FLAT_CHANCE = 0.4            # chance that a scene's background holds a flat region
#: Kinds that show the photo's own background sharp: only for photos sharp all over.
NEED_SHARP_PHOTO = ("inverted", "sharp")


@dataclass(frozen=True)
class Cutout:
    """An object to paste: float32 RGB (h, w, 3) and its matte (h, w) in [0, 1]."""

    rgb: np.ndarray
    matte: np.ndarray


@dataclass(frozen=True)
class Layer:
    """One depth layer: RGB (h, w, 3) in [0, 1], coverage (h, w) in [0, 1], blur radius in px
    (0 = sharp), PSF ``"disc"`` or ``"gauss"``, and the softness sigma of a sharp layer."""

    rgb: np.ndarray
    alpha: np.ndarray
    radius: float
    psf: str = "disc"
    soft: float = 0.0

    @property
    def sharp(self) -> bool:
        return self.radius == 0.0


def blur_radius(rng: np.random.Generator) -> float:
    """A defocus radius drawn log-uniformly from :data:`BLUR_RANGE`."""
    return math.exp(rng.uniform(*np.log(BLUR_RANGE)))


def defocus_linear(values: np.ndarray, radius: float, psf: str, soft: float = 0.0) -> np.ndarray:
    """Blur linear-light ``values`` (h, w[, c]) by a disc of ``radius`` px or a Gaussian of
    sigma ``radius / 2``; a sharp layer (radius 0) gets only its ``soft`` Gaussian sigma."""
    if radius == 0.0:
        return cv2.GaussianBlur(values, (0, 0), soft) if soft > 0 else values
    if psf == "gauss":
        return cv2.GaussianBlur(values, (0, 0), radius / 2)
    return cv2.filter2D(values, -1, disc_kernel(radius), borderType=cv2.BORDER_REFLECT)


def render(layers: list[Layer], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Composite ``layers`` (back to front; the first covers everything) -> (sRGB image
    (h, w, 3), label (h, w) with 1 where the front-most layer is sharp)."""
    back = layers[0]
    out = defocus_linear(srgb_to_linear(back.rgb), back.radius, back.psf, back.soft)
    label = np.full(back.alpha.shape, float(back.sharp), np.float32)
    for layer in layers[1:]:
        linear = srgb_to_linear(layer.rgb) * layer.alpha[:, :, None]
        if layer.sharp:
            cover = cv2.GaussianBlur(layer.alpha, (0, 0), rng.uniform(0.5, 1.5))
            colour = defocus_linear(linear, 0.0, layer.psf, layer.soft)
            colour = colour / np.maximum(defocus_linear(layer.alpha, 0.0, layer.psf, layer.soft),
                                         1e-4)[:, :, None]
        else:
            cover = defocus_linear(layer.alpha, layer.radius, layer.psf)
            colour = defocus_linear(linear, layer.radius, layer.psf) / np.maximum(cover, 1e-4)[
                :, :, None]
        cover = np.clip(cover, 0.0, 1.0)[:, :, None]
        out = cover * np.clip(colour, 0.0, 1.0) + (1.0 - cover) * out
        label[layer.alpha >= 0.5] = float(layer.sharp)
    return linear_to_srgb(out), label


def random_shape(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A random object-like mask (h, w) in {0, 1}: an ellipse, a polygon or a smooth blob
    covering roughly 8-50 % of the frame."""
    height, width = shape
    mask = np.zeros(shape, np.float32)
    centre = (int(rng.uniform(0.2, 0.8) * width), int(rng.uniform(0.2, 0.8) * height))
    size = rng.uniform(0.15, 0.4) * min(height, width) + 2
    choice = rng.integers(3)
    if choice == 0:
        axes = (max(2, int(size * rng.uniform(0.6, 1.4))), max(2, int(size * rng.uniform(0.6, 1.4))))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    elif choice == 1:
        count = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, count))
        radii = size * rng.uniform(0.5, 1.4, count)
        points = np.stack([centre[0] + radii * np.cos(angles),
                           centre[1] + radii * np.sin(angles)], 1).astype(np.int32)
        cv2.fillPoly(mask, [points], 1.0)
    else:
        noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0),
                                 max(2.0, size / 3))
        mask = (noise > np.quantile(noise, rng.uniform(0.55, 0.9))).astype(np.float32)
    return mask


def flat_fill(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A textureless fill (h, w, 3): a gradient between two colours (sky, wall, backdrop),
    faint low-frequency clouds and sensor-level noise."""
    height, width = shape
    top, bottom = rng.uniform(0.05, 1.0, 3), rng.uniform(0.05, 1.0, 3)
    if rng.random() < 0.5:  # sky-like: blue-grey to pale
        top = np.array([0.35, 0.55, 0.85]) * rng.uniform(0.6, 1.1) + rng.uniform(-0.1, 0.1, 3)
        bottom = np.clip(top + rng.uniform(0.0, 0.3), 0, 1)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    fill = (1 - t) * top.astype(np.float32) + t * bottom.astype(np.float32)
    fill = np.broadcast_to(fill, (height, width, 3)).copy()
    clouds = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0),
                              max(height, width) / 10)
    clouds *= rng.uniform(0.0, 0.04) / max(float(clouds.std()), 1e-6)
    fill += clouds[:, :, None] + rng.normal(0, rng.uniform(0.0, 0.004), fill.shape)
    return np.clip(fill, 0.0, 1.0).astype(np.float32)


def flat_region(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Where a flat fill goes (h, w) in {0, 1}: a sky band above a wavy horizon, a wall on one
    side, or a blob."""
    height, width = shape
    choice = rng.integers(3)
    if choice == 0:
        wave = cv2.GaussianBlur(rng.standard_normal((1, width)).astype(np.float32), (0, 0),
                                width / 12)[0]
        horizon = height * (rng.uniform(0.2, 0.65) + 0.08 * wave / max(float(np.abs(wave).max()),
                                                                        1e-6))
        return (np.arange(height)[:, None] < horizon[None, :]).astype(np.float32)
    if choice == 1:
        edge = int(rng.uniform(0.3, 0.7) * width)
        region = np.zeros(shape, np.float32)
        if rng.random() < 0.5:
            region[:, :edge] = 1
        else:
            region[:, edge:] = 1
        return region
    return random_shape(shape, rng)


def with_flat_region(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``rgb`` with a flat region painted in (sometimes)."""
    if rng.random() >= FLAT_CHANCE:
        return rgb
    region = flat_region(rgb.shape[:2], rng)[:, :, None]
    return region * flat_fill(rgb.shape[:2], rng) + (1 - region) * rgb


def paste(cutout: Cutout, shape: tuple[int, int], rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    """Place ``cutout`` at a random size and spot in a frame of ``shape`` -> (RGB (h, w, 3),
    coverage (h, w))."""
    height, width = shape
    scale = rng.uniform(0.35, 0.95) * min(height / cutout.rgb.shape[0], width / cutout.rgb.shape[1])
    size = (max(2, round(cutout.rgb.shape[1] * scale)), max(2, round(cutout.rgb.shape[0] * scale)))
    rgb = cv2.resize(cutout.rgb, size, interpolation=cv2.INTER_AREA)
    matte = cv2.resize(cutout.matte, size, interpolation=cv2.INTER_AREA)
    top = int(rng.integers(0, height - size[1] + 1))
    left = int(rng.integers(0, width - size[0] + 1))
    canvas = np.zeros((height, width, 3), np.float32)
    coverage = np.zeros((height, width), np.float32)
    canvas[top:top + size[1], left:left + size[0]] = rgb
    coverage[top:top + size[1], left:left + size[0]] = matte
    return canvas, coverage


def object_layer(photo: np.ndarray, mask: np.ndarray | None, cutouts: list[Cutout],
                 rng: np.random.Generator, own_shapes: bool = True
                 ) -> tuple[np.ndarray, np.ndarray]:
    """An object for a scene on ``photo`` -> (RGB, coverage): the photo's own masked object,
    one pasted from another photo, or (when ``own_shapes``) a random shape cut from the photo
    itself."""
    shape = photo.shape[:2]
    roll = rng.random()
    has_mask = mask is not None and mask.max() > 0
    if has_mask and (roll < 0.55 or not (cutouts or own_shapes)):
        return photo, mask
    if cutouts and (roll < 0.8 or not own_shapes):
        return paste(cutouts[rng.integers(len(cutouts))], shape, rng)
    if not own_shapes:
        raise ValueError("cutouts: a photo of unknown focus needs a mask or cutouts for a sharp "
                         "object")  # make_scene draws only possible kinds
    return photo, random_shape(shape, rng)


def sharp_layer(rgb: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> Layer:
    """A sharp layer, with a hint of Gaussian softness a third of the time."""
    soft = rng.uniform(*SOFT_SIGMA) if rng.random() < 0.33 else 0.0
    return Layer(rgb, alpha, 0.0, soft=soft)


def blurred_layer(rgb: np.ndarray, alpha: np.ndarray, rng: np.random.Generator,
                  radius: float | None = None) -> Layer:
    """A defocused layer: disc PSF most of the time, Gaussian otherwise."""
    psf = "gauss" if rng.random() < 0.3 else "disc"
    return Layer(rgb, alpha, radius if radius is not None else blur_radius(rng), psf)


def possible_kinds(photo_sharp: bool, has_mask: bool, has_cutouts: bool) -> list[str]:
    """The kinds a scene can be for a photo sharp all over or not (``photo_sharp``), with an
    object mask or not, with cutouts to paste or not: a photo of unknown focus shows nothing
    of its own sharp but its masked object, so without cutouts only ``shallow`` and
    ``backdrop`` (on its mask) and ``blurred`` remain."""
    if photo_sharp:
        return list(KINDS)
    if has_cutouts:
        return [n for n in KINDS if n not in NEED_SHARP_PHOTO]
    return ["shallow", "backdrop", "blurred"] if has_mask else ["blurred"]


def make_scene(photo: np.ndarray, mask: np.ndarray | None, cutouts: list[Cutout],
               rng: np.random.Generator, kind: str | None = None, photo_sharp: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
    """A scene of ``kind`` (drawn from :data:`KINDS` when None) on ``photo`` (h, w, 3) with its
    optional object ``mask`` (h, w) -> (image (h, w, 3), label (h, w)), both float32.
    ``photo_sharp``: whether the photo outside ``mask`` is known to be in focus (see the
    module docstring); ``kind`` must be one of :func:`possible_kinds`."""
    names = possible_kinds(photo_sharp, mask is not None and mask.max() > 0, bool(cutouts))
    if kind is None:
        weights = np.array([KINDS[n] for n in names])
        kind = names[rng.choice(len(names), p=weights / weights.sum())]
    if kind not in names:
        raise ValueError(f"kind must be one of {', '.join(names)}; got {kind!r}")
    shape = photo.shape[:2]
    full = np.ones(shape, np.float32)
    background = with_flat_region(photo, rng)
    if kind in ("shallow", "inverted", "sharp", "blurred"):
        object_sharp = kind in ("shallow", "sharp")
        rgb, alpha = object_layer(photo, mask, cutouts, rng, photo_sharp or not object_sharp)
        if kind == "shallow":
            layers = [blurred_layer(background, full, rng), sharp_layer(rgb, alpha, rng)]
        elif kind == "inverted":
            layers = [sharp_layer(background, full, rng), blurred_layer(rgb, alpha, rng)]
        elif kind == "sharp":
            layers = [sharp_layer(background, full, rng), sharp_layer(rgb, alpha, rng)]
        else:
            layers = [blurred_layer(background, full, rng), blurred_layer(rgb, alpha, rng)]
    elif kind == "layers":
        far, near = sorted([blur_radius(rng), blur_radius(rng)], reverse=True)
        middle_sharp = rng.random() < 0.5
        middle_rgb, middle_alpha = object_layer(photo, mask, cutouts, rng,
                                                photo_sharp or not middle_sharp)
        front_rgb, front_alpha = object_layer(photo, None, cutouts, rng,
                                              photo_sharp or middle_sharp)
        layers = [blurred_layer(background, full, rng, far),
                  sharp_layer(middle_rgb, middle_alpha, rng) if middle_sharp
                  else blurred_layer(middle_rgb, middle_alpha, rng, near),
                  blurred_layer(front_rgb, front_alpha, rng) if middle_sharp
                  else sharp_layer(front_rgb, front_alpha, rng)]
    else:  # backdrop
        rgb, alpha = object_layer(photo, mask, cutouts, rng, photo_sharp)
        layers = [blurred_layer(flat_fill(shape, rng), full, rng), sharp_layer(rgb, alpha, rng)]
    return render(layers, rng)
