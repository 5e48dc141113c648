"""CLI pieces of the commands that consume a focus map (roi, detect, video): ``--map`` and
JSON Lines output."""

from __future__ import annotations

import json

import typer

#: ``--map`` of the commands that take one or many inputs.
MapInput = typer.Option(None, "--map", metavar="PATH", help="Use this focus map (white = in "
                        "focus) instead of computing one; for several inputs a folder of "
                        "<stem>.png.")


def print_json(document: dict) -> None:
    """One JSON document on one line of stdout (JSON Lines)."""
    from ..io import write_stdout

    write_stdout((json.dumps(document) + "\n").encode("utf-8"))
