"""Detector time on the whole frame versus on the in-focus regions only (ROI-first), on the
same images in the same run (these machines are shared: read the ratios, not the ms).

Images: samples/*.jpg and, when present, ../shared/data/dbd-real/img (read in place), resized
so the long side is --side px (large photos are where ROI-first pays). The map is the
analytic one, computed once per image and timed separately: ROI-first needs it, and dofkit
computes it anyway to gate. "kept" counts detections passing the focus gate (0.5).

Run: .venv/bin/python benchmarks/detect_speed.py [--detector hog] [--side 1920] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2

from dofkit.detect import detect_on_rois, gate_detections, make_detector
from dofkit.focus.analytic import analytic_focus
from dofkit.io import read_image
from dofkit.roi import find_rois

ROOT = Path(__file__).resolve().parent.parent
DBD = ROOT.parent / "shared" / "data" / "dbd-real" / "img"


def timed(work, repeats: int):
    """(median seconds, last result) of ``work()`` over ``repeats`` runs."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", default="hog")
    parser.add_argument("--side", type=int, default=1920, help="long side, px")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    detector = make_detector(args.detector)
    paths = sorted(ROOT.glob("samples/*.jpg")) + sorted(DBD.glob("*.*"))
    print(f"detector {args.detector}, long side {args.side} px, {cv2.getNumThreads()} OpenCV "
          f"threads, median of {args.repeats}")
    print(f"{'image':16s} {'map ms':>7s} {'full ms':>8s} {'ROI ms':>7s} {'ROI area':>8s} "
          f"{'speed-up':>8s} {'kept full/ROI':>13s}")
    totals = [0.0, 0.0, 0.0]
    for path in paths:
        image = read_image(path)
        scale = args.side / max(image.shape[:2])
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        map_time, focus = timed(lambda: analytic_focus(image), 1)
        full_time, full = timed(lambda: detector(image), args.repeats)
        roi_time, first = timed(lambda: detect_on_rois(detector, image, find_rois(focus)),
                                args.repeats)
        area = sum(r.w * r.h for r in find_rois(focus, pad=0.15)) / focus.size
        kept = [len(gate_detections(found, focus).kept) for found in (full, first)]
        totals = [totals[0] + map_time, totals[1] + full_time, totals[2] + roi_time]
        print(f"{path.stem:16s} {1000 * map_time:7.0f} {1000 * full_time:8.0f} "
              f"{1000 * roi_time:7.0f} {area:8.0%} {full_time / roi_time:7.1f}x "
              f"{kept[0]:>6d}/{kept[1]:<6d}")
    print(f"{'total':16s} {1000 * totals[0]:7.0f} {1000 * totals[1]:8.0f} "
          f"{1000 * totals[2]:7.0f} {'':8s} {totals[1] / totals[2]:7.1f}x   "
          f"(with the map: {totals[1] / (totals[2] + totals[0]):.1f}x)")


if __name__ == "__main__":
    main()
