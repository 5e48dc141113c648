"""Speed of the analytic and paper focus maps at 1920x1080, against cv2.GaussianBlur measured in
the same run (these machines are shared: read the ratio, not the milliseconds).

Run: .venv/bin/python benchmarks/focus_speed.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from dofkit.focus.analytic import analytic_focus
from dofkit.focus.paper import paper_focus
from dofkit.io import read_image

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "astronaut.jpg"


def median_ms(work, repeats: int) -> float:
    work()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


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
    for name, method in (("analytic", analytic_focus), ("paper (eq. 3)", paper_focus)):
        ms = median_ms(lambda: method(image), args.repeats)
        print(f"{name:28s} {ms:7.1f} ms  {ms / megapixels:6.1f} ms/MP  {ms / reference:4.1f}x")


if __name__ == "__main__":
    main()
