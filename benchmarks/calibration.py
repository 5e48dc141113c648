"""Calibration of the focus maps: the mean map of photos sharp all over (should be near 1) and of
the same photos disc-blurred all over (should be near 0), as asked by evaluation.md.

Data (research use only, read in place): the photos of ``../shared/data/sharp/*`` and of
scikit-image that the shipped recipe held out of training (its seeded split), at their own
resolution, less scikit-image's coffee and chelsea (they have a shallow depth of field already); blurred copies use a disc PSF of ``--radius`` px (default 4) in linear light.

Run: .venv/bin/python benchmarks/calibration.py [--methods analytic paper srcnn] [--radius 4]
[--weights W]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dofkit.focus import FocusEstimator
from dofkit.io import read_image
from dofkit.synth import defocus
from dofkit.train.data import SHALLOW_ORIGINALS, SKIMAGE_HELD_OUT, list_images, load_skimage
from dofkit.train.recipe import Sources

SHARP = Path(__file__).resolve().parents[2] / "shared" / "data" / "sharp"


def photos() -> list[np.ndarray]:
    """The held-out sharp photos at full resolution, float32 RGB in [0, 1]."""
    folders = sorted(p for p in SHARP.iterdir() if p.is_dir())
    _, held = Sources([], folders, skimage=False).split(0)
    images = [read_image(path) for folder, held_set in zip(folders, held)
              for path in list_images(folder) if path.stem in held_set.names]
    skimage = load_skimage(tuple(n for n in SKIMAGE_HELD_OUT if n not in SHALLOW_ORIGINALS))
    return images + [skimage.rgb(i) for i in range(len(skimage.photos))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--methods", nargs="+", default=["analytic", "paper", "srcnn"])
    parser.add_argument("--radius", type=float, default=4.0)
    parser.add_argument("--weights", type=Path, default=None,
                        help="network weights for srcnn (default: the shipped ones)")
    args = parser.parse_args()
    images = photos()
    blurred = [defocus(image, args.radius) for image in images]
    print(f"{len(images)} held-out photos; blurred copies: disc radius {args.radius:g} px")
    print(f"{'method':10s} {'sharp':>6s} {'blurred':>8s}")
    for method in args.methods:
        estimator = FocusEstimator(method, weights=args.weights if method == "srcnn" else None)
        sharp_mean = np.mean([estimator(image).mean() for image in images])
        blurred_mean = np.mean([estimator(image).mean() for image in blurred])
        print(f"{method:10s} {sharp_mean:6.2f} {blurred_mean:8.2f}")


if __name__ == "__main__":
    main()
