"""Pictures of hard cases for the model card: held-out scenes where the analytic map errs most,
then (of the others) those where the network errs most, each as photo | truth (white = in
focus) | analytic map | network map.

Scenes come from the held-out photos of every source (as ``benchmarks/synthetic_eval.py``,
seed 2024), plus the photos sharp all over (with painted skies and walls) from calibration;
the real dbd-real photos are not used here (they are not ours to publish).

Run: .venv/bin/python scripts/hard_cases.py [--out docs/focus-hard-cases.jpg]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dofkit.focus import FocusEstimator
from dofkit.io import write_image
from dofkit.metrics import mae
from dofkit.train.data import cutouts_of
from dofkit.train.recipe import shared_sources
from dofkit.train.validation import build_validation

ROOT = Path(__file__).resolve().parent.parent
HEIGHT = 180  # px, height of every tile


def tile(image: np.ndarray) -> np.ndarray:
    """(h, w[, 3]) in [0, 1] -> RGB tile HEIGHT px high."""
    if image.ndim == 2:
        image = np.dstack([image] * 3)
    width = round(image.shape[1] * HEIGHT / image.shape[0])
    return cv2.resize(image.astype(np.float32), (width, HEIGHT), interpolation=cv2.INTER_AREA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "focus-hard-cases.jpg")
    parser.add_argument("--rows", type=int, default=4, help="rows of each group")
    args = parser.parse_args()
    _, held = shared_sources(ROOT.parent / "shared" / "data").split(0)
    data = build_validation(held, cutouts_of(held), 2024, per_source=12)
    cases = [(image, truth) for scenes in data.composites.values() for image, truth in scenes]
    cases += [(image, np.ones(image.shape[:2], bool)) for image in data.calibration["sharp-all"]]
    analytic, network = FocusEstimator("analytic"), FocusEstimator("srcnn")
    rows = []
    for image, truth in cases:
        maps = analytic(image), network(image)
        rows.append((mae(maps[0], truth), mae(maps[1], truth), image, truth, maps))
    groups = [sorted(rows, key=lambda r: -r[0])[:args.rows]]  # hardest for the analytic map
    shown = {id(r) for r in groups[0]}
    groups.append([r for r in sorted(rows, key=lambda r: -r[1]) if id(r) not in shown][:args.rows])
    strips = [np.hstack([tile(image), tile(truth.astype(np.float32)), tile(a), tile(n)])
              for group in groups for _, _, image, truth, (a, n) in group]
    width = max(s.shape[1] for s in strips)
    strips = [np.pad(s, ((0, 4), (0, width - s.shape[1]), (0, 0)), constant_values=1.0)
              for s in strips]
    write_image(args.out, np.vstack(strips), overwrite=True)
    for group, name in zip(groups, ("the analytic map", "the network (others)")):
        print(f"hardest for {name}: " + ", ".join(
            f"analytic {r[0]:.3f} / network {r[1]:.3f}" for r in group))


if __name__ == "__main__":
    main()
