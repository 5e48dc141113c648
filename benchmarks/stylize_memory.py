"""Memory of a long-lived :class:`dofkit.render.Stylizer` (as `dofkit serve` keeps one), per
image size and backend: the peak of one call, and the resident memory after calls of
alternating sizes.

Each case runs in a fresh subprocess (``ru_maxrss`` is a high-water mark of the process):

* **peak**: one call at one size. Printed: the process peak, and the peak above the process
  with the inputs made (the Stylizer's own share), also in bytes per pixel.
* **kept** and **released**: one Stylizer called with the sizes of ``--sequence`` in turn,
  the output and inputs dropped and ``malloc_trim(0)`` called after each (as the server's
  worker does); *released* also calls :meth:`Stylizer.release` after each call (as the
  server's engine does per request), *kept* does not (a library user, a video). Printed: RSS
  after each call, then after a last ``release()``.

The inputs are synthetic (a random texture and a radial focus map, resized): memory does not
depend on the content, except through the tiles the passes skip. Sizes are megapixels at 3:2.

Run: nice .venv/bin/python benchmarks/stylize_memory.py [--sizes 12 24 54] [--backends gl cpu]
    [--sequence 54 12 54 24] [--style toon]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import math
import resource
import subprocess
import sys

import numpy as np


def _shape(megapixels: float) -> tuple[int, int]:
    """(H, W) of about ``megapixels`` at 3:2."""
    width = round(math.sqrt(megapixels * 1e6 * 1.5))
    return round(width / 1.5), width


def _inputs(megapixels: float) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic photo float32 (H, W, 3) and focus (H, W) in [0, 1] of that size."""
    import cv2

    height, width = _shape(megapixels)
    rng = np.random.default_rng(0)
    image = cv2.resize(rng.random((192, 288, 3), dtype=np.float32), (width, height))
    y, x = np.mgrid[:96, :144].astype(np.float32)
    focus = np.clip(1.5 - np.hypot((x - 72) / 48, (y - 48) / 32), 0, 1).astype(np.float32)
    return np.clip(image, 0, 1, out=image), np.clip(cv2.resize(focus, (width, height)), 0, 1)


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


_trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim


def _settle() -> int:
    """RSS after a garbage collection and malloc_trim(0), as the server's worker does."""
    gc.collect()
    _trim(0)
    return _rss()


def child(kind: str, backend: str, style: str, sizes: list[float]) -> dict:
    from dofkit.render import Stylizer

    stylizer = Stylizer(style, backend)
    warm_image, warm_focus = _inputs(0.1)  # programs compiled, context made
    stylizer(warm_image, warm_focus)
    stylizer.release()
    record = {"start": _settle()}
    if kind == "peak":
        image, focus = _inputs(sizes[0])
        record["inputs"] = _settle()
        stylizer(image, focus)
        record["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return record
    record["after"] = []
    for size in sizes:
        image, focus = _inputs(size)
        stylizer(image, focus)
        del image, focus
        if kind == "released":
            stylizer.release()
        record["after"].append(_settle())
    stylizer.release()
    record["released"] = _settle()
    stylizer.close()
    return record


def _run(kind: str, backend: str, style: str, sizes: list[float]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, backend, style,
                          *map(str, sizes)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{kind} {backend} {sizes}: failed\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[12, 24, 54],
                        help="megapixels of the peak cases")
    parser.add_argument("--sequence", type=float, nargs="*", default=[54, 12, 54, 24],
                        help="megapixels of the calls of the after case, in turn")
    parser.add_argument("--backends", nargs="+", default=["gl", "cpu"], choices=["gl", "cpu"])
    parser.add_argument("--style", default="toon")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, backend, style, *sizes = args.child
        print(json.dumps(child(kind, backend, style, [float(s) for s in sizes])))
        return
    mb = 2 ** 20
    print(f"style {args.style}; MB = 2^20 bytes; B/px over the pixels of the call")
    for backend in args.backends:
        for size in args.sizes:
            r = _run("peak", backend, args.style, [size])
            pixels = math.prod(_shape(size))
            own = r["peak"] - r["inputs"]
            print(f"{backend:3} peak  {size:5g} MP: process {r['peak'] / mb:6.0f} MB, with "
                  f"inputs {r['inputs'] / mb:6.0f} MB, Stylizer's share {own / mb:6.0f} MB = "
                  f"{own / pixels:5.1f} B/px (process {r['peak'] / pixels:5.1f} B/px)",
                  flush=True)
        for kind in ("kept", "released") if args.sequence else ():
            r = _run(kind, backend, args.style, args.sequence)
            calls = ", ".join(f"{s:g} MP {rss / mb:.0f}"
                              for s, rss in zip(args.sequence, r["after"]))
            print(f"{backend:3} {kind:8}: start {r['start'] / mb:.0f} MB; after each call (MB): "
                  f"{calls}; after release {r['released'] / mb:.0f}", flush=True)


if __name__ == "__main__":
    main()
