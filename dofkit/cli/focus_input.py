"""CLI pieces of the commands that consume a focus map (roi, detect, video): ``--map`` and
JSON Lines output."""

from __future__ import annotations

import json

import typer

from .common import refuse_unused

#: ``--map`` of the commands that take one or many inputs.
MapInput = typer.Option(None, "--map", metavar="PATH", help="Use this focus map (white = in "
                        "focus) instead of computing one; for several inputs a folder of "
                        "<stem>.png.")


def print_json(document: dict) -> None:
    """One JSON document on one line of stdout (JSON Lines)."""
    from ..io import write_stdout

    write_stdout((json.dumps(document) + "\n").encode("utf-8"))


def focus_source(context: typer.Context, shared, map_path: str | None) -> dict:
    """Pipeline focus keywords of a command taking ``--map``: the options' (``shared``, a
    :class:`~dofkit.cli.batch_run.Shared`), or with ``--map`` no network (``method`` None, the
    options that set one refused: nothing is computed)."""
    if map_path is None:
        return shared.focus()
    refuse_unused(context, ("method", "device", "threads", "weights"),
                  "with --map (the maps are read, not computed)")
    return {"method": None, "max_pixels": shared.max_pixels}
