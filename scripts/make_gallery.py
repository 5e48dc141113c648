"""Make the README's gallery and the before/after crops of docs/stylize.md.

Strips (docs/gallery/<sample>.jpg), from the left: a bundled sample, its focus map computed by
``--method auto`` (the shipped network), then every preset driven by that map.

Crops (docs/gallery/crops.jpg): the artefacts of issue 13, each as a pair "before | after",
enlarged 2x: round lights in a defocused background (painterly), a smooth defocused
background (toon), the defocused background of a sketch, and noisy in-focus ground (toon). The
scenes with lights and with gravel are made here from a seeded generator; "before" is read
from renders saved by an older checkout of this script (``--save-renders DIR`` there, then
``--before DIR`` here), as the renderer that made them is gone.

Run: .venv/bin/python scripts/make_gallery.py [--before DIR] [--save-renders DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dofkit import FocusEstimator
from dofkit.io import encode_image, read_image, write_bytes_atomic, write_image
from dofkit.render import STYLES, Stylizer

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "docs" / "gallery"
HEIGHT = 220  # px, height of every strip tile
#: name -> (scene, style, crop (x, y, w, h) in scene px)
CROPS = {
    "lights": ("lights", "painterly", (40, 40, 160, 120)),
    "toon-background": ("coffee", "toon", (0, 0, 160, 120)),
    "sketch-background": ("astronaut", "sketch", (330, 20, 160, 120)),
    "gravel": ("gravel", "toon", (20, 60, 160, 120)),
}


def tile(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W, 3) resized to :data:`HEIGHT` px high."""
    width = round(image.shape[1] * HEIGHT / image.shape[0])
    return cv2.resize(image, (width, HEIGHT), interpolation=cv2.INTER_AREA)


def lights() -> tuple[np.ndarray, np.ndarray]:
    """Night bokeh: soft discs of light (radius 5-16 px, edges softened by 0.8-3 px) of random
    colours over a dark, faintly mottled ground with sensor noise; focus 0 everywhere.
    float32 (240, 320, 3), (240, 320)."""
    rng = np.random.default_rng(7)
    height, width = 240, 320
    ground = cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), 12)
    scene = np.array([0.05, 0.08, 0.12], np.float32) + 0.15 * ground
    for _ in range(40):
        radius, x, y = rng.uniform(5, 16), rng.uniform(0, width), rng.uniform(0, height)
        disc = np.zeros((height, width), np.float32)
        cv2.circle(disc, (int(x), int(y)), int(radius), 1.0, -1, cv2.LINE_AA)
        cover = 0.8 * cv2.GaussianBlur(disc, (0, 0), rng.uniform(0.8, 3))[:, :, None]
        scene = scene * (1 - cover) + cover * rng.uniform(0.5, 1.0, 3).astype(np.float32)
    scene = scene + rng.normal(0, 0.01, scene.shape).astype(np.float32)
    return np.clip(scene, 0, 1).astype(np.float32), np.zeros((height, width), np.float32)


def gravel() -> tuple[np.ndarray, np.ndarray]:
    """Noisy ground (pebbles of random shade, 3 px) around a smooth grey stone with a clean
    outline, all in focus. float32 (240, 320, 3), (240, 320)."""
    rng = np.random.default_rng(11)
    pebbles = cv2.resize(rng.uniform(0.35, 0.75, (80, 107)), (320, 240),
                         interpolation=cv2.INTER_NEAREST).astype(np.float32)
    ground = np.dstack([pebbles * 1.05, pebbles, pebbles * 0.85])
    y, x = np.mgrid[:240, :320]
    stone = ((x - 200) / 70.0) ** 2 + ((y - 120) / 50.0) ** 2 <= 1
    ground[stone] = (0.55, 0.55, 0.6)
    return np.clip(ground, 0, 1).astype(np.float32), np.ones((240, 320), np.float32)


def scenes(estimator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (image, focus): the bundled samples with computed maps, and the made scenes."""
    found = {}
    for name in ("astronaut", "coffee", "chelsea"):
        image = read_image(ROOT / "samples" / f"{name}.jpg")
        found[name] = (image, estimator(image))
    found["lights"], found["gravel"] = lights(), gravel()
    return found


def renders(stylizer, scenes_: dict) -> dict[tuple[str, str], np.ndarray]:
    """(scene, style) -> stylised image, for every scene and preset."""
    made = {}
    for name, (image, focus) in scenes_.items():
        for style in STYLES:
            stylizer.configure(style)
            made[name, style] = stylizer(image, focus)
    return made


def crops(before: Path, after: dict) -> np.ndarray:
    """One row per :data:`CROPS` entry: the crop before | after, enlarged 2x (nearest)."""
    rows = []
    for scene, style, (x, y, w, h) in CROPS.values():
        pair = [read_image(before / f"{scene}-{style}.png"), after[scene, style]]
        pieces = [cv2.resize(p[y:y + h, x:x + w], (2 * w, 2 * h),
                             interpolation=cv2.INTER_NEAREST) for p in pair]
        rows.append(np.hstack([pieces[0], np.ones((2 * h, 8, 3), np.float32), pieces[1]]))
    gap = np.ones((8, rows[0].shape[1], 3), np.float32)
    return np.vstack([part for row in rows for part in (row, gap)][:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, help="renders of an older checkout (crops)")
    parser.add_argument("--save-renders", type=Path, help="write every render here as PNG")
    args = parser.parse_args()
    estimator = FocusEstimator("auto")
    with Stylizer() as stylizer:
        found = scenes(estimator)
        made = renders(stylizer, found)
    if args.save_renders:
        args.save_renders.mkdir(parents=True, exist_ok=True)
        for (scene, style), image in made.items():
            write_image(args.save_renders / f"{scene}-{style}.png", image)
        return
    for name in ("astronaut", "coffee", "chelsea"):
        image, focus = found[name]
        tiles = [image, np.dstack([focus] * 3)] + [made[name, style] for style in STYLES]
        write_bytes_atomic(GALLERY / f"{name}.jpg",
                           encode_image(np.hstack([tile(t) for t in tiles]), ".jpg", quality=85))
    if args.before:
        write_bytes_atomic(GALLERY / "crops.jpg",
                           encode_image(crops(args.before, made), ".jpg", quality=90))


if __name__ == "__main__":
    main()
