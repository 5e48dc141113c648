"""Calibration of the focus maps: the mean map of photos sharp all over (should be near 1) and of
the same photos disc-blurred all over (should be near 0), as asked by evaluation.md.

Data (research use only, read in place): the first 5 photos (sorted) of each of
``../shared/data/sharp/kodak24`` and ``sharp/urban100``; blurred copies use a disc PSF of
``--radius`` px (default 4) in linear light, at the photo's own resolution.

Run: .venv/bin/python benchmarks/calibration.py [--methods analytic paper srcnn] [--radius 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dofkit.focus import FocusEstimator
from dofkit.io import read_image
from dofkit.synth import defocus

SHARP = Path(__file__).resolve().parents[2] / "shared" / "data" / "sharp"


def photos(per_folder: int = 5) -> list[Path]:
    """The first ``per_folder`` photos of kodak24 and urban100."""
    return [p for folder in ("kodak24", "urban100")
            for p in sorted((SHARP / folder).iterdir())[:per_folder]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--methods", nargs="+", default=["analytic", "paper", "srcnn"])
    parser.add_argument("--radius", type=float, default=4.0)
    args = parser.parse_args()
    images = [read_image(p) for p in photos()]
    blurred = [defocus(image, args.radius) for image in images]
    print(f"{len(images)} photos; blurred copies: disc radius {args.radius:g} px")
    print(f"{'method':10s} {'sharp':>6s} {'blurred':>8s}")
    for method in args.methods:
        estimator = FocusEstimator(method)
        sharp_mean = np.mean([estimator(image).mean() for image in images])
        blurred_mean = np.mean([estimator(image).mean() for image in blurred])
        print(f"{method:10s} {sharp_mean:6.2f} {blurred_mean:8.2f}")


if __name__ == "__main__":
    main()
