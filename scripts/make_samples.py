"""Make the bundled samples: public-domain / CC0 photos from scikit-image given a shallow depth
of field by dofkit's own code (subject mask by GrabCut, background disc-blurred in linear light).

Run: .venv/bin/python scripts/make_samples.py  (needs scikit-image; writes samples/*.jpg)
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

from dofkit.io import write_image
from dofkit.synth import composite

# name: (loader, subject rectangle x, y, w, h, blur radius px, licence)
SOURCES = {
    "astronaut": (data.astronaut, (120, 10, 300, 502), 7.0, "public domain (NASA)"),
    "coffee": (data.coffee, (120, 0, 360, 330), 6.0, "CC0 (Rachel Michetti)"),
    "chelsea": (data.chelsea, (60, 0, 300, 300), 5.0, "CC0 (Stefan van der Walt)"),
}


def subject_mask(image: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """GrabCut foreground (float32 0/1) inside ``rect`` of uint8 RGB ``image``."""
    mask = np.zeros(image.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(image[:, :, ::-1].copy(), mask, rect, background, foreground, 8,
                cv2.GC_INIT_WITH_RECT)
    keep = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    keep = cv2.morphologyEx(keep, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    return keep.astype(np.float32)


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "samples"
    for name, (load, rect, radius, _licence) in SOURCES.items():
        photo = load()
        mask = subject_mask(photo, rect)
        result = composite(photo.astype(np.float32) / 255.0, mask, radius)
        write_image(out / f"{name}.jpg", result)
        write_image(out / f"{name}-mask.png", mask)
        print(name, f"subject {mask.mean():.0%} of the frame", flush=True)


if __name__ == "__main__":
    main()
