"""Speed of `dofkit stylize` rendering (GL: 8-bit upload, passes, 8-bit read-back) against
cv2.stylization on the same image in the same run, at 1920x1080 and 1280x720 (these machines
are shared: read the ratios, not the milliseconds). The focus map is the sample's mask,
resized; map time is not included. Runs are interleaved (each round times every entry once,
so load changes hit all alike). Issue 13's target: the default style at 1080p at most 0.3x the
time of cv2.stylization.

Run: .venv/bin/python benchmarks/stylize_speed.py [--repeats 5] [--cpu]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dofkit.io import read_focus_map, read_image, to_uint
from dofkit.render import DEFAULT_STYLE, STYLES, Stylizer
from timing import interleaved_ms

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SIZES = ((1920, 1080), (1280, 720))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="also time the CPU reference")
    args = parser.parse_args()
    photo = read_image(SAMPLES / "astronaut.jpg")
    mask = read_focus_map(SAMPLES / "astronaut-mask.png")
    print(f"median of {args.repeats} interleaved rounds; ratio = ours / cv2.stylization (lower "
          "is faster); wall clock, then process CPU time (all threads: the work, whatever else "
          "runs)")
    for size in SIZES:
        image = np.ascontiguousarray(cv2.resize(photo, size))
        focus = np.ascontiguousarray(cv2.resize(mask, size))
        bgr = np.ascontiguousarray(to_uint(image)[:, :, ::-1])
        stylizers = {"gl": Stylizer(backend="gl")}
        if args.cpu:
            stylizers["cpu"] = Stylizer(backend="cpu")
        works = {"cv2.stylization": lambda: cv2.stylization(bgr)}
        for backend, stylizer in stylizers.items():
            for style in STYLES if backend == "gl" else [DEFAULT_STYLE]:
                label = f"{backend} {style}{' (default)' if style == DEFAULT_STYLE else ''}"
                works[label] = lambda s=stylizer, p=style: (s.configure(p), s(image, focus))
        times = interleaved_ms(works, args.repeats)
        for stylizer in stylizers.values():
            stylizer.close()
        wall_ref, cpu_ref = times["cv2.stylization"]
        for label, (wall, cpu) in times.items():
            print(f"{size[0]}x{size[1]} {label:24s} wall {wall:8.1f} ms {wall / wall_ref:5.2f}x"
                  f"   cpu {cpu:8.1f} ms {cpu / cpu_ref:5.2f}x")


if __name__ == "__main__":
    main()
