"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..focus import METHODS

Method = typer.Option("auto", "--method", "-m",
                      help=f"Focus-map method: {', '.join(METHODS)}.")
Device = typer.Option("cpu", "--device", help="Device for the network: cpu or cuda.")
Threads = typer.Option(None, "--threads", min=1, help="CPU threads for the network.")
Weights = typer.Option(None, "--weights", dir_okay=False,
                       help="Network weights (.safetensors with its .json manifest) instead of "
                            "the shipped ones, e.g. from `dofkit train --export`.")
MapPath = typer.Option(None, "--map", help="Use this focus map (grey image, white = in focus) "
                       "instead of computing one.", dir_okay=False)
MaxPixels = typer.Option(None, "--max-pixels", min=1,
                         help="Refuse images with more pixels (default 100 MP).")
Overwrite = typer.Option(False, "--overwrite", help="Allow replacing an input file.")
Output = typer.Option(None, "--output", "-o", help="Output file ('-' = stdout, PNG).")
OutDir: Optional[Path] = typer.Option(None, "--out-dir", file_okay=False,
                                      help="Folder for outputs, one per input.")
