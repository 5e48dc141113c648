"""Re-score focus-network weights with the predictor as the code computes it now, and export
them with a fresh manifest (logit scale chosen again by the worst-source regret, per-source
validation of exactly this predictor): for a change after the network that needs no
retraining. The weights themselves are copied unchanged.

Run (from the project folder, ../shared/data beside it):
.venv/bin/python scripts/rescore_weights.py pretrained/focus-net.safetensors runs/rescored.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path

from dofkit.train.recipe import rescore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    weights, export = map(Path, sys.argv[1:3])
    if export.resolve() == weights.resolve():
        sys.exit("rescore_weights: the export must be a new file, not the weights read")
    rescore(weights, DATA, export)


if __name__ == "__main__":
    main()
