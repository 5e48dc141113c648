"""Score focus maps on synthetic defocus composites of the photos the shipped recipe held out
for validation (never trained on), with the metrics of `dofkit eval`.

Used to choose inference settings without touching dbd-real, the evaluation set: e.g. the
network's logit scale (``--logit-scales``; the product of the scale and the logits goes through
the sigmoid, > 1 makes the map more decisive).

Composites: the held-out photos of ``masked/people`` and ``masked/horses`` (the recipe's seeded
5 % split), subject kept sharp, the rest disc-blurred in linear light with a radius drawn
log-uniformly in [1.5, 8] px at a working scale of 640 px, soft boundary; label = mask.

Run: .venv/bin/python benchmarks/synthetic_eval.py [--count 40] [--logit-scales 1 1.5 2]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from dofkit.focus.analytic import analytic_focus
from dofkit.focus.srcnn import SrcnnPredictor
from dofkit.metrics import score
from dofkit.synth import composite
from dofkit.train.data import WORK_SIDE, read_mask, read_rgb, resize
from dofkit.train.recipe import Sources

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "masked"


def cases(count: int, seed: int = 0):
    """(image, truth) composites of up to ``count`` held-out photos."""
    _, held_out = Sources([DATA / "people", DATA / "horses"], []).masked_split(seed)
    rng = np.random.default_rng(1234)
    for photo, mask_path in held_out[:count]:
        image = read_rgb(photo)
        scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
        image = resize(image, scale)
        mask = resize(read_mask(mask_path), scale) >= 0.5
        radius = math.exp(rng.uniform(math.log(1.5), math.log(8.0)))
        yield composite(image, mask.astype(np.float32), radius, rng.uniform(0.5, 2.0)), mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--logit-scales", type=float, nargs="+", default=[1.0])
    args = parser.parse_args()
    predictor = SrcnnPredictor(args.weights)
    rows: dict[str, list[dict]] = {}
    for image, truth in cases(args.count):
        logits = predictor.logits(image)
        rows.setdefault("analytic", []).append(score(analytic_focus(image), truth))
        for factor in args.logit_scales:
            probability = 1.0 / (1.0 + np.exp(-factor * logits))
            focus = predictor.refine(image, probability.astype(np.float32))
            rows.setdefault(f"srcnn x{factor:g}", []).append(score(focus, truth))
    print(f"{len(rows['analytic'])} held-out composites")
    print(f"{'map':14s} {'MAE':>6s} {'F05':>6s} {'Fmax':>6s}")
    for name, scores in rows.items():
        means = {k: np.mean([s[k] for s in scores]) for k in ("mae", "f05", "fmax")}
        print(f"{name:14s} {means['mae']:6.3f} {means['f05']:6.3f} {means['fmax']:6.3f}")


if __name__ == "__main__":
    main()
