"""Generalisation across sources: the network against the analytic map on composites made from
the photos the shipped recipe held out of training (never trained on), per source.

Sources: each ``../shared/data/masked/*`` and ``sharp/*`` folder and scikit-image's photos,
with the recipe's seeded held-out split (``dofkit.train.recipe.Sources.split``). Scenes come
from the training engine (``dofkit.train.scenes``) with a *different* seed from the one used
for model selection: ``--kinds shallow`` gives plain composites (sharp subject, defocused
background), the default mixes depth layers, inverted focus and flat backdrops. Also prints the
share of scenes where the network beats the analytic map (lower MAE) and where it is worse by
more than 0.10 MAE, and calibration: the mean map of held-out photos sharp all over, and of the
same photos defocused all over.

Run: .venv/bin/python benchmarks/synthetic_eval.py [--per-source 30] [--kinds shallow]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dofkit.focus import FocusEstimator
from dofkit.metrics import score
from dofkit.train.data import cutouts_of
from dofkit.train.recipe import shared_sources
from dofkit.train.validation import COMPOSITE_KINDS, build_validation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-source", type=int, default=30)
    parser.add_argument("--kinds", nargs="+", default=list(COMPOSITE_KINDS))
    parser.add_argument("--seed", type=int, default=2024, help="scene seed (selection used 0)")
    parser.add_argument("--weights", type=Path, default=None)
    args = parser.parse_args()
    _, held = shared_sources(DATA).split(0)
    data = build_validation(held, cutouts_of(held), args.seed, per_source=args.per_source,
                            kinds=tuple(args.kinds))
    maps = {"analytic": FocusEstimator("analytic"),
            "network": FocusEstimator("srcnn", weights=args.weights)}
    print(f"held-out composites, kinds {', '.join(args.kinds)}, seed {args.seed}")
    print(f"{'source':10s} {'n':>3s}  {'analytic MAE/F05/Fmax':>22s}  {'network MAE/F05/Fmax':>22s}"
          f"  {'wins':>5s} {'worse>0.1':>9s}")
    totals = {"analytic": [], "network": []}
    for source, scenes in data.composites.items():
        rows = {name: [score(fn(image), truth) for image, truth in scenes]
                for name, fn in maps.items()}
        for name in rows:
            totals[name] += rows[name]
        print(f"{source:10s} {len(scenes):3d}  " + "  ".join(
            f"{_means(rows[n])['mae']:6.3f} {_means(rows[n])['f05']:6.3f} "
            f"{_means(rows[n])['fmax']:6.3f}   " for n in maps) + _versus(rows))
    print(f"{'all':10s} {len(totals['network']):3d}  " + "  ".join(
        f"{_means(totals[n])['mae']:6.3f} {_means(totals[n])['f05']:6.3f} "
        f"{_means(totals[n])['fmax']:6.3f}   " for n in maps) + _versus(totals))
    for kind, images in data.calibration.items():
        print(f"calibration {kind} ({len(images)} photos): " + ", ".join(
            f"{name} mean map {np.mean([fn(image).mean() for image in images]):.3f}"
            for name, fn in maps.items()))


def _means(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in ("mae", "f05", "fmax")}


def _versus(rows: dict) -> str:
    gain = np.array([a["mae"] - n["mae"] for a, n in zip(rows["analytic"], rows["network"])])
    return f"{np.mean(gain > 0):5.0%} {np.mean(gain < -0.10):9.1%}"


if __name__ == "__main__":
    main()
