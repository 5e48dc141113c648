"""Picture of what the fill from edges does, for docs/focus-network.md: for each bundled sample,
photo | the network's logits alone (logit scale, sigmoid) | the shipped map (after the fill),
all at the network's working scale.

Run: .venv/bin/python scripts/fill_pictures.py [--out docs/focus-fill.jpg]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dofkit.focus.analytic import sigmoid, working_copy
from dofkit.focus.fill import LOGIT_CLIP
from dofkit.focus.srcnn import SrcnnPredictor, network_inputs
from dofkit.io import read_image, write_image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ("astronaut.jpg", "chelsea.jpg", "coffee.jpg")
WIDTH = 360  # px, width of every tile


def row(predictor: SrcnnPredictor, image: np.ndarray) -> np.ndarray:
    """photo | logits alone | filled map of one photo, as RGB tiles WIDTH px wide."""
    work = working_copy(image, predictor.work_side)
    logits = predictor.logit_scale * predictor.logits(network_inputs(work))
    alone = sigmoid(np.clip(logits, -LOGIT_CLIP, LOGIT_CLIP))
    filled = cv2.resize(predictor(image), (work.shape[1], work.shape[0]))
    height = round(work.shape[0] * WIDTH / work.shape[1])
    return np.hstack([cv2.resize(tile if tile.ndim == 3 else np.dstack([tile] * 3),
                                 (WIDTH, height), interpolation=cv2.INTER_AREA)
                      for tile in (work, alone, filled)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "focus-fill.jpg")
    args = parser.parse_args()
    predictor = SrcnnPredictor()
    rows = [row(predictor, read_image(ROOT / "samples" / name)) for name in SAMPLES]
    write_image(args.out, np.vstack(rows).astype(np.float32), overwrite=True)


if __name__ == "__main__":
    main()
