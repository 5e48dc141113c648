"""Speed of `dofkit stylize` rendering at 1920x1080 (GL: upload, passes, read-back), against
cv2.stylization on the same image in the same run (these machines are shared: read the ratio,
not the milliseconds). The focus map is the sample's mask, resized; map time is not included.

Run: .venv/bin/python benchmarks/stylize_speed.py [--repeats 5] [--cpu]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dofkit.io import read_focus_map, read_image, to_uint
from dofkit.render import DEFAULT_STYLE, STYLES, Stylizer
from timing import median_ms

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SIZE = (1920, 1080)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="also time the CPU reference")
    args = parser.parse_args()
    image = np.ascontiguousarray(cv2.resize(read_image(SAMPLES / "astronaut.jpg"), SIZE))
    focus = np.ascontiguousarray(cv2.resize(read_focus_map(SAMPLES / "astronaut-mask.png"), SIZE))
    bgr = np.ascontiguousarray(to_uint(image)[:, :, ::-1])
    reference = median_ms(lambda: cv2.stylization(bgr), args.repeats)
    print(f"{SIZE[0]}x{SIZE[1]}, median of {args.repeats}; speed-up = cv2.stylization / ours")
    print(f"{'cv2.stylization':28s} {reference:8.1f} ms   1.0x")
    backends = ["gl", "cpu"] if args.cpu else ["gl"]
    for backend in backends:
        with Stylizer(backend=backend) as stylizer:
            for style in STYLES if backend == "gl" else [DEFAULT_STYLE]:
                stylizer.configure(style)
                ms = median_ms(lambda: stylizer(image, focus), args.repeats)
                label = f"{backend} {style}{' (default)' if style == DEFAULT_STYLE else ''}"
                print(f"{label:28s} {ms:8.1f} ms  {reference / ms:4.1f}x")


if __name__ == "__main__":
    main()
