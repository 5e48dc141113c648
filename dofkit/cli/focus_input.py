"""CLI pieces of the commands that consume a focus map (roi, detect, video): ``--map``,
the threshold option and JSON Lines output."""

from __future__ import annotations

import json

import typer

from ..errors import ParameterError

#: ``--map`` of the commands that take one or many inputs.
MapInput = typer.Option(None, "--map", metavar="PATH", help="Use this focus map (white = in "
                        "focus) instead of computing one; for several inputs a folder of "
                        "<stem>.png.")


def parse_threshold(text: str) -> float | str:
    """``--threshold``: a number in (0, 1] or ``otsu`` (range checked by dofkit.roi)."""
    if text.lower() == "otsu":
        return "otsu"
    try:
        value = float(text)
    except ValueError:
        raise ParameterError(f"--threshold must be a number in (0, 1] or 'otsu'; "
                             f"got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise ParameterError(f"--threshold must be in (0, 1] or 'otsu'; got {text!r}")
    return value


def print_json(document: dict) -> None:
    """One JSON document on one line of stdout (JSON Lines)."""
    from ..io import write_stdout

    write_stdout((json.dumps(document) + "\n").encode("utf-8"))
