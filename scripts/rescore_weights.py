"""Re-score focus-network weights with the predictor as the code computes it now, and export
them with a fresh manifest (logit scale chosen again by the worst-source regret, per-source
validation of exactly this predictor): for a change after the network that needs no
retraining. The weights themselves are copied unchanged.

Run (from the project folder, ../shared/data beside it):
.venv/bin/python scripts/rescore_weights.py pretrained/focus-net.safetensors \
    runs/rescored.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dofkit.train.recipe import rescore, shared_sources

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("weights", type=Path, help="weights to re-score (only read)")
    parser.add_argument("export", type=Path, help="new weights file to write, with its manifest")
    args = parser.parse_args()
    rescore(args.weights, shared_sources(DATA), args.export, DATA / "dbd-real",
            command=f"scripts/rescore_weights.py {args.weights} {args.export}")


if __name__ == "__main__":
    main()
