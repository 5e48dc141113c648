"""Print the per-source validation table of a weights manifest as Markdown (for the model card
and README), so the figures shown are exactly those recorded for the shipped predictor.

Run: .venv/bin/python scripts/model_card_tables.py [pretrained/focus-net.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "pretrained" / "focus-net.json"
    manifest = json.loads(path.read_text())
    network, analytic = manifest["validation"]["network"], manifest["validation"]["analytic"]
    print("| source | analytic MAE | network MAE | analytic F05 | network F05 | "
          "analytic Fmax | network Fmax |")
    print("|---|---|---|---|---|---|---|")
    for source, entry in network.items():
        if "f05" in entry:
            print(f"| {source} | {analytic[source]['mae']:.3f} | {entry['mae']:.3f} | "
                  f"{analytic[source]['f05']:.3f} | {entry['f05']:.3f} | "
                  f"{analytic[source]['fmax']:.3f} | {entry['fmax']:.3f} |")
    for source, entry in network.items():
        if "mean" in entry:
            print(f"| {source} (mean map) | {analytic[source]['mean']:.3f} | "
                  f"{entry['mean']:.3f} | | | | |")
    print(f"\nlogit scale {manifest.get('logit_scale')}, beats the analytic map on every source: "
          f"{manifest.get('beats_analytic')}")


if __name__ == "__main__":
    main()
