"""CLI pieces of the commands that consume a focus map (roi, detect, video): where each input's
map comes from, where its overlay goes, the threshold option, and JSON Lines output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import typer

from ..errors import ParameterError
from ..io import STDIO, Picture
from .common import notice, output_paths

FocusFor = Callable[[str, Picture], np.ndarray]

#: ``--map`` of the commands that take one or many inputs (see :func:`focus_source`).
MapInput = typer.Option(None, "--map", help="Use this focus map (white = in focus) instead of "
                        "computing one; for several inputs a folder of <stem>.png.")


def parse_threshold(text: str) -> float | str:
    """``--threshold``: a number in (0, 1] or ``otsu`` (range checked by dofkit.roi)."""
    if text.lower() == "otsu":
        return "otsu"
    try:
        return float(text)
    except ValueError:
        raise ParameterError(f"--threshold must be a number in (0, 1] or 'otsu'; "
                             f"got {text!r}") from None


def focus_source(inputs: list[str], map_path: Optional[str], method: str, device: str,
                 threads: Optional[int], weights: Optional[str] = None) -> FocusFor:
    """How each input gets its map: computed by one FocusEstimator made here, or read from
    ``--map`` (a file for one input; for several, a folder of ``<stem>.png`` as written by
    ``dofkit map --out-dir``)."""
    from ..io import read_focus_map

    if map_path is None:
        from ..focus import FocusEstimator

        estimator = FocusEstimator(method, device=device, threads=threads,
                                   weights=weights, notify=notice)
        return lambda source, picture: estimator(picture.rgb)
    if len(inputs) == 1 and not Path(map_path).is_dir():
        return lambda source, picture: read_focus_map(map_path, picture.size)
    if not Path(map_path).is_dir():
        raise ParameterError(f"--map {map_path}: with several inputs, give a folder of maps "
                             "named <stem>.png")

    def from_folder(source: str, picture: Picture) -> np.ndarray:
        stem = "stdin" if source == STDIO else Path(source).stem  # as output_paths names it
        return read_focus_map(Path(map_path) / f"{stem}.png", picture.size)

    return from_folder


def overlay_targets(inputs: list[str], overlay: Optional[str]) -> dict[str, str]:
    """Input -> overlay path: ``--overlay FILE`` for one input, or a folder (made if needed)
    receiving ``<stem>.png`` per input."""
    if overlay is None:
        return {}
    if len(inputs) == 1 and not Path(overlay).is_dir():
        return dict(output_paths(inputs, overlay, None))
    return dict(output_paths(inputs, None, Path(overlay)))


def print_json(document: dict) -> None:
    """One JSON document on one line of stdout (JSON Lines)."""
    print(json.dumps(document), flush=True)
