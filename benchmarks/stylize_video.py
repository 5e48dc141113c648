"""Stylised video at 1280x720, the targets of issue 13, in one run:

1. Speed: `dofkit video --mode stylize` end to end (decode, map, temporal smoothing, stylise
   with coherence, H.264 encode; the same objects the command builds) in time per frame,
   against cv2.stylization on one decoded frame, timed before and after the stream (target
   <= 0.2x). Wall clock and process CPU time (all threads: the work, whatever else runs).
2. Flicker: a static shot with fresh sensor noise on every frame (Gaussian, sigma 2 % of the
   range, in memory: no codec in between); mean absolute change between consecutive stylised
   frames with the defaults (--smooth 0.7, --coherence 0.7) against --smooth 0 --coherence 0
   (target: at least 3x less).

The moving clip is video_speed.make_clip's (a textured square moving over a blurred texture).

Run: .venv/bin/python benchmarks/stylize_video.py [--frames 48] [--every 1 4] [--method analytic]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from dofkit.focus import FocusEstimator
from dofkit.io import read_image, to_uint
from dofkit.render import Stylizer
from dofkit.video import CoherentStylizer, FrameMaps, open_sink, open_source, process
from video_speed import SIZE, make_clip

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since ``start`` (from :func:`clocks`)."""
    wall, cpu = clocks()
    return wall - start[0], cpu - start[1]


def reference(frame: np.ndarray, repeats: int = 3) -> tuple[float, float]:
    """Median (wall, CPU) seconds of cv2.stylization on ``frame`` (float32 RGB)."""
    bgr = np.ascontiguousarray(to_uint(frame)[:, :, ::-1])
    times = []
    for _ in range(repeats):
        start = clocks()
        cv2.stylization(bgr)
        times.append(since(start))
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def stream(clip: Path, target: Path, stylizer, method: str, every: int) -> tuple[float, float]:
    """(wall, CPU) seconds per frame of the whole stream, as `dofkit video --mode stylize`."""
    maps = FrameMaps(FocusEstimator(method), smooth=0.7, every=every)
    work = CoherentStylizer(stylizer, maps, 0.7)
    with open_source(str(clip)) as source:
        sink = open_sink(str(target), records=False, size=source.size, rate=source.rate)
        start = clocks()
        outcome = process(source, sink, lambda frame, prepared: work.render(prepared),
                          prepare=lambda frame: work.prepare(frame.rgb))
        wall, cpu = since(start)
    return wall / outcome.frames, cpu / outcome.frames


def flicker(stylizer, frames: list[np.ndarray], smooth: float, coherence: float) -> float:
    """Mean absolute change (0-255) between consecutive stylised frames, after 4 frames."""
    work = CoherentStylizer(stylizer, FrameMaps(FocusEstimator("analytic"), smooth=smooth),
                            coherence)
    styled = [work(frame) for frame in frames]
    return 255 * float(np.mean([np.abs(a - b).mean() for a, b in zip(styled[4:], styled[5:])]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--every", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--method", default="analytic")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Stylizer() as stylizer:
        clip = Path(folder) / "clip.mp4"
        make_clip(clip, args.frames)
        with open_source(str(clip)) as source:
            first = next(source.frames()).rgb
        stylizer(first, FocusEstimator(args.method)(first))  # compile the programs
        before = reference(first)
        rates = {every: stream(clip, Path(folder) / "out.mp4", stylizer, args.method, every)
                 for every in args.every}
        after = reference(first)
        wall_ref = statistics.mean([before[0], after[0]])
        cpu_ref = statistics.mean([before[1], after[1]])
        print(f"{SIZE[0]}x{SIZE[1]}, {args.frames} frames, --method {args.method}; "
              f"cv2.stylization per frame: wall {1000 * wall_ref:.0f} ms, CPU "
              f"{1000 * cpu_ref:.0f} ms")
        for every, (wall, cpu) in rates.items():
            print(f"video --mode stylize --every {every}: wall {1000 * wall:.0f} ms/frame "
                  f"({wall / wall_ref:.2f}x, {1 / wall:.1f} frames/s), CPU {1000 * cpu:.0f} "
                  f"ms/frame ({cpu / cpu_ref:.2f}x)")

        still = np.ascontiguousarray(cv2.resize(read_image(SAMPLES / "astronaut.jpg"), SIZE))
        rng = np.random.default_rng(0)
        noisy = [np.clip(still + rng.normal(0, 0.02, still.shape), 0, 1).astype(np.float32)
                 for _ in range(12)]
        independent = flicker(stylizer, noisy, 0.0, 0.0)
        coherent = flicker(stylizer, noisy, 0.7, 0.7)
        print(f"flicker on a static noisy shot (mean |frame - previous|, 0-255): "
              f"--smooth 0 --coherence 0 {independent:.2f}; defaults {coherent:.2f} "
              f"({independent / coherent:.1f}x less)")


if __name__ == "__main__":
    main()
