"""Detail the stylisation keeps in the subject relative to the background, on photos with
ground-truth in-focus masks: the 9 dbd-real photos and synthetic composites of ``masked/``
photos (every 25th of people and horses; subject kept sharp, the rest disc-defocused with a
radius drawn log-uniformly in [1.5, 8] px at 640 px, seeded). Nothing in the renderer was
tuned on them; read-only data, nothing copied.

Each photo is stylised with its ground-truth mask as the focus map. Detail = RMS of the
band-pass lightness L - G_2px * L (CIELab L); kept(region) = detail of the output / detail of
the photo in that region (regions: mask and its complement, each eroded by 8 px so the
feathered boundary counts for neither); score = kept(subject) / kept(background), geometric
mean over photos. A plain bilateral filter blended by the mask is printed as the reference.

Run: .venv/bin/python benchmarks/stylize_detail.py [--composites 40] [--backend gl]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np

from dofkit.io import read_focus_map, read_image
from dofkit.render import STYLES, Stylizer
from dofkit.synth import composite

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DBD = DATA / "dbd-real"
SIDE = 640  # px, long side of the composites
MARGIN = 8  # px eroded from each region


def detail(rgb: np.ndarray, region: np.ndarray) -> float:
    """RMS of the band-pass CIELab lightness (L - Gaussian sigma 2 px) of ``rgb`` in
    ``region`` (bool (H, W))."""
    lightness = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[..., 0]
    band = lightness - cv2.GaussianBlur(lightness, (0, 0), 2.0)
    return float(np.sqrt(np.mean(band[region] ** 2)))


def score(photo: np.ndarray, styled: np.ndarray, mask: np.ndarray) -> float:
    """kept(subject) / kept(background) of ``styled`` against ``photo``, ``mask`` bool."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * MARGIN + 1, 2 * MARGIN + 1))
    subject = cv2.erode(mask.astype(np.uint8), kernel) > 0
    background = cv2.erode((~mask).astype(np.uint8), kernel) > 0
    kept = [detail(styled, r) / max(detail(photo, r), 1e-6) for r in (subject, background)]
    return kept[0] / max(kept[1], 1e-6)


def bilateral_blend(photo: np.ndarray, focus: np.ndarray) -> np.ndarray:
    """Reference: cv2.bilateralFilter (d 9, sigma colour 0.1, space 4) blended by focus."""
    smooth = cv2.bilateralFilter(photo, 9, 0.1, 4.0)
    weight = cv2.GaussianBlur(focus, (0, 0), 3.0)[..., None]
    return (weight * photo + (1 - weight) * smooth).astype(np.float32)


def composites_of(count: int):
    """(image, mask bool) composites of up to ``count`` ``masked/`` photos (see above)."""
    pairs = [(photo, DATA / "masked" / kind / "mask" / f"{photo.stem}.png")
             for kind in ("people", "horses")
             for photo in sorted((DATA / "masked" / kind / "img").iterdir())[::25]]
    rng = np.random.default_rng(1234)
    for photo, mask_path in pairs[:count]:
        image, mask = read_image(photo), read_focus_map(mask_path)
        scale = SIDE / max(image.shape[:2])
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) >= 0.5
        radius = math.exp(rng.uniform(math.log(1.5), math.log(8.0)))
        yield composite(image, mask.astype(np.float32), radius), mask


def photos(composites: int):
    """(name, photo, mask bool) of the dbd-real photos, then of ``composites`` composites."""
    for path in sorted((DBD / "img").iterdir()):
        mask = read_focus_map(DBD / "gt" / f"{path.stem}.png") >= 0.5
        yield "dbd-real", read_image(path), mask
    for image, mask in composites_of(composites):
        yield "composites", np.ascontiguousarray(image, np.float32), mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--composites", type=int, default=40)
    parser.add_argument("--backend", default="gl", choices=["gl", "cpu"])
    args = parser.parse_args()
    scores: dict[tuple[str, str], list[float]] = {}
    with Stylizer(backend=args.backend) as stylizer:
        for group, photo, mask in photos(args.composites):
            focus = mask.astype(np.float32)
            results = {"bilateral blend": bilateral_blend(photo, focus)}
            for style in STYLES:
                stylizer.configure(style)
                results[style] = stylizer(photo, focus)
            for name, styled in results.items():
                scores.setdefault((group, name), []).append(score(photo, styled, mask))
    print("detail kept in the subject / in the background (geometric mean; higher = more "
          "focus-selective)")
    for (group, name), values in scores.items():
        print(f"{group:11s} {name:16s} x{np.exp(np.mean(np.log(values))):5.2f}  "
              f"({len(values)} photos, worst x{min(values):.2f})")


if __name__ == "__main__":
    main()
