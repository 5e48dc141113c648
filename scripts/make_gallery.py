"""Make the README's before/after gallery from the bundled samples, with dofkit's own maps.

Each strip, from the left: the sample, its focus map computed by ``--method auto`` (the shipped
network), then every stylisation preset driven by that map.

Run: .venv/bin/python scripts/make_gallery.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dofkit import FocusEstimator
from dofkit.io import encode_image, read_image, write_bytes_atomic
from dofkit.render import STYLES, Stylizer

ROOT = Path(__file__).resolve().parent.parent
HEIGHT = 220  # px, height of every tile


def tile(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W, 3) resized to :data:`HEIGHT` px high."""
    width = round(image.shape[1] * HEIGHT / image.shape[0])
    return cv2.resize(image, (width, HEIGHT), interpolation=cv2.INTER_AREA)


def main() -> None:
    estimator = FocusEstimator("auto")
    with Stylizer() as stylizer:
        for name in ("astronaut", "coffee", "chelsea"):
            image = read_image(ROOT / "samples" / f"{name}.jpg")
            focus = estimator(image)
            tiles = [image, np.dstack([focus] * 3)]
            for style in STYLES:
                stylizer.configure(style)
                tiles.append(stylizer(image, focus))
            strip = np.hstack([tile(t) for t in tiles])
            write_bytes_atomic(ROOT / "docs" / "gallery" / f"{name}.jpg",
                               encode_image(strip, ".jpg", quality=85))


if __name__ == "__main__":
    main()
