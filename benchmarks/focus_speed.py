"""Speed of the focus maps at 1920x1080 (analytic, paper, and the shipped network in fp32),
against cv2.GaussianBlur and the analytic map measured in the same run (these machines are
shared: read the ratios, not the milliseconds).

Run: .venv/bin/python benchmarks/focus_speed.py [--repeats 15]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dofkit.focus import FocusEstimator
from dofkit.io import read_image
from timing import median_ms

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "astronaut.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    image = np.ascontiguousarray(cv2.resize(read_image(SAMPLE), (1920, 1080)))
    megapixels = image.shape[0] * image.shape[1] / 1e6
    reference = median_ms(lambda: cv2.GaussianBlur(image, (0, 0), 2.0), args.repeats)
    print(f"1920x1080, {cv2.getNumThreads()} OpenCV threads, median of {args.repeats}")
    print(f"{'cv2.GaussianBlur sigma 2':28s} {reference:7.1f} ms  {reference / megapixels:6.1f} "
          "ms/MP  1.0x")
    analytic_ms = None
    for method in ("analytic", "paper", "srcnn"):
        estimator = FocusEstimator(method)
        ms = median_ms(lambda: estimator(image), args.repeats)
        analytic_ms = analytic_ms or ms
        print(f"{method:28s} {ms:7.1f} ms  {ms / megapixels:6.1f} ms/MP  {ms / reference:5.1f}x"
              f"  ({ms / analytic_ms:.2f}x analytic)")


if __name__ == "__main__":
    main()
