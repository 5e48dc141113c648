"""Speed of `dofkit video` at 1280x720: frames per second of the whole stream (decode, map,
smoothing, consumer, H.264 encode) for --mode map (analytic) and --mode stylize, printed beside
the per-image time of the same work on one frame (map, or map + stylise) in the same run
(these machines are shared: read the ratio, not the milliseconds).

The clip is made here: a sharp textured square moving over a blurred background, 24 frames/s.

Run: .venv/bin/python benchmarks/video_speed.py [--frames 48] [--backend gl]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from dofkit.focus import FocusEstimator
from dofkit.render import Stylizer
from dofkit.video import FrameMaps, open_sink, open_source, process
from timing import median_ms

SIZE = (1280, 720)
RATE = 24


def make_clip(path: Path, frames: int) -> None:
    """``frames`` frames of a 400 px texture square moving 8 px per frame over a blurred
    texture, H.264 at :data:`RATE` frames/s."""
    rng = np.random.default_rng(0)
    width, height = SIZE
    texture = cv2.resize(rng.random((height // 8, (width + 8 * frames) // 8, 3)),
                         None, fx=8, fy=8, interpolation=cv2.INTER_NEAREST)
    background = cv2.GaussianBlur(texture, (0, 0), 6)
    square = np.clip(0.6 * rng.random((400, 400, 3)) + 0.4 * cv2.resize(
        rng.random((50, 50, 3)), (400, 400), interpolation=cv2.INTER_NEAREST) - 0.1, 0, 1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=RATE, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            frame = background[:, 8 * index:8 * index + width].copy()
            left = 100 + 8 * index
            frame[160:560, left:left + 400] = square
            picture = av.VideoFrame.from_ndarray((frame * 255).astype(np.uint8), "rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))


def stream_fps(clip: Path, target: Path, consumer, smooth: float, every: int) -> float:
    """Frames per second of the whole stream through ``consumer(rgb, maps) -> image``."""
    maps = FrameMaps(FocusEstimator("analytic"), smooth=smooth, every=every)
    with open_source(str(clip)) as source:
        sink = open_sink(str(target), records=False, size=source.size, rate=source.rate)
        start = time.perf_counter()
        outcome = process(source, sink, lambda frame: consumer(frame.rgb, maps))
    return outcome.frames / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--backend", default="gl", choices=["gl", "cpu"])
    args = parser.parse_args()
    estimate = FocusEstimator("analytic")
    with tempfile.TemporaryDirectory() as folder, Stylizer(backend=args.backend) as stylizer:
        clip = Path(folder) / "clip.mp4"
        make_clip(clip, args.frames)
        with open_source(str(clip)) as source:
            image = next(source.frames()).rgb
        modes = {
            "map": (lambda rgb, maps: maps(rgb), lambda: estimate(image)),
            f"stylize ({args.backend})": (lambda rgb, maps: stylizer(rgb, maps(rgb)),
                                          lambda: stylizer(image, estimate(image))),
        }
        print(f"{SIZE[0]}x{SIZE[1]}, {args.frames} frames, analytic map; per-image = median "
              f"of 5 on one decoded frame (no decode, smoothing or encode)")
        print(f"{'mode':16s} {'per-image':>17s}   video: {'--smooth 0':>10s} "
              f"{'--smooth 0.7':>12s} {'--every 4':>10s}")
        for name, (consumer, single) in modes.items():
            ms = median_ms(single, 5)
            rates = [stream_fps(clip, Path(folder) / "out.mp4", consumer, smooth, every)
                     for smooth, every in ((0.0, 1), (0.7, 1), (0.7, 4))]
            print(f"{name:16s} {ms:7.1f} ms ({1000 / ms:4.1f}/s)         "
                  + " ".join(f"{rate:6.1f} fps" for rate in rates))


if __name__ == "__main__":
    main()
