"""How well the top ROI finds the in-focus subject: IoU of `find_rois(...)[0]` with the bounding
box of the ground-truth in-focus region.

Data (research use only, read in place from ../shared/data, never copied):
- dbd-real: 9 real shallow-depth-of-field photos, gt/ masks 255 = in focus;
- masked: the people and horses photos held out by the network's training recipe (at its
  640-px working scale), their masked subject kept sharp and the rest defocused with
  dofkit.synth.composite (disc radius 4-8 px, fixed seed), so the mask is the truth.

Run: .venv/bin/python benchmarks/roi_iou.py --method analytic [--data dbd-real masked]
     [--count 20] [--seed 0] [--threshold otsu] [--min-area 0.01] [--merge 0.1]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Iterator

import numpy as np

from dofkit.focus import METHODS, FocusEstimator
from dofkit.io import read_focus_map, read_image
from dofkit.roi import box_iou, find_rois
from dofkit.synth import composite
from dofkit.train.recipe import shared_sources

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def truth_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of the True pixels of a bool (H, W) mask, x2 and y2 exclusive."""
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def dbd_real() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image, truth) for every dbd-real photo."""
    for image_path in sorted((DATA / "dbd-real" / "img").glob("*.*")):
        truth = read_focus_map(DATA / "dbd-real" / "gt" / f"{image_path.stem}.png") > 0.5
        yield image_path.stem, read_image(image_path), truth


def masked(count: int, seed: int = 0) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, composite, truth) for up to ``count`` photos of masked/people and masked/horses
    that the shipped network's recipe held out (never trained on), at its working scale,
    blurred with a fixed seed."""
    _, held = shared_sources(DATA).split(0)
    cases = [(photo_set, index) for photo_set in held if photo_set.mask(0) is not None
             for index in range(len(photo_set.photos))][:count]
    rng = np.random.default_rng(seed)
    for photo_set, index in cases:
        truth = photo_set.mask(index) >= 0.5
        image = composite(photo_set.rgb(index), truth.astype(np.float32),
                          float(rng.uniform(4.0, 8.0)))
        yield f"{photo_set.name}/{photo_set.names[index]}", image, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", default="analytic", choices=METHODS)
    parser.add_argument("--data", nargs="+", default=["dbd-real", "masked"],
                        choices=["dbd-real", "masked"])
    parser.add_argument("--count", type=int, default=20, help="held-out masked photos")
    parser.add_argument("--seed", type=int, default=0, help="choice and blur of masked photos")
    parser.add_argument("--threshold", default="otsu", help="number in (0, 1] or otsu")
    parser.add_argument("--min-area", type=float, default=0.01)
    parser.add_argument("--merge", type=float, default=0.1)
    parser.add_argument("--verbose", action="store_true", help="one line per image")
    args = parser.parse_args()
    threshold = args.threshold if args.threshold == "otsu" else float(args.threshold)
    estimator = FocusEstimator(args.method)
    print(f"method {estimator.method}, threshold {args.threshold}, min-area {args.min_area}, "
          f"merge {args.merge}")
    sets = {"dbd-real": dbd_real, "masked": lambda: masked(args.count, args.seed)}
    for name in args.data:
        scores = []
        for case, image, truth in sets[name]():
            rois = find_rois(estimator(image), threshold, min_area=args.min_area,
                             merge=args.merge, max_rois=1)
            scores.append(box_iou(rois[0].xyxy, truth_box(truth)) if rois else 0.0)
            if args.verbose:
                print(f"  {case:24s} IoU {scores[-1]:.3f}")
        print(f"{name:9s} {len(scores):3d} images  mean IoU {statistics.mean(scores):.3f}  "
              f"median {statistics.median(scores):.3f}  >=0.5: "
              f"{sum(s >= 0.5 for s in scores)}/{len(scores)}")


if __name__ == "__main__":
    main()
