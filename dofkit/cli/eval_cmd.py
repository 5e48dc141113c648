"""`dofkit eval`: MAE, F05 and Fmax of focus maps against ground-truth masks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import DofkitError
from . import options
from .common import console, error_line, guarded, refuse_unused
from .focus_input import print_json


@guarded
def eval_command(
    context: typer.Context,
    images: Path = typer.Option(..., "--images", help="Folder of photos."),
    gt: Path = typer.Option(..., "--gt", help="Folder of masks, same stems, 255 = in focus."),
    method: str = options.Method,
    maps: Optional[Path] = typer.Option(None, "--maps", help="Score these maps (same stems, "
                                        "white = in focus) instead of computing them."),
    as_json: bool = typer.Option(False, "--json", help="Print scores as JSON on stdout."),
    device: str = options.Device,
    threads: Optional[int] = options.Threads,
    weights: Optional[str] = options.Weights,
    quiet: bool = options.Quiet,
) -> None:
    """Score maps per image and averaged: MAE; F05 (F-beta, beta^2 = 0.3, map thresholded at
    0.5, the blurred region positive); Fmax (in-focus region positive, best of 101
    thresholds). The table goes to stderr (not with --quiet); --json prints the scores on
    stdout.

    A file that cannot be used is reported on a line of its own; the others are still
    scored, and the exit status is then 1; --json still prints its document (count 0, means
    null, when no image could be scored)."""
    from ..evaluate import evaluate, find_cases, mean_scores
    from ..focus import FocusEstimator

    if maps is not None:
        refuse_unused(context, ("method", "device", "threads", "weights"),
                      "with --maps (the maps are read, not computed)")
    cases = find_cases(images, gt, maps)
    estimator = None if maps else FocusEstimator(method, device=device, threads=threads,
                                                 weights=weights)
    rows = []
    for case in cases:  # a broken file is one line; the others are still scored
        try:
            rows += evaluate([case], estimator)
        except DofkitError as exc:
            error_line(str(exc))
    means = mean_scores([scores for _, scores in rows])
    source = str(maps) if maps else estimator.method
    if rows and not quiet:
        console.print(_table(f"dofkit eval: {source} on {len(rows)} "
                             f"image{'s' * (len(rows) != 1)}", rows, means))
    if as_json:
        document = {"method": source, "count": len(rows), "mean": means,
                    "images": [{"image": str(case.image), **scores} for case, scores in rows]}
        print_json(document)
    if len(rows) < len(cases):
        raise typer.Exit(1)


def _table(title: str, rows: list, means: dict[str, float]):
    """The rich table of the per-image ``rows`` (case, scores) and their ``means``."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("image", "MAE", "F05", "Fmax"):
        table.add_column(column, justify="left" if column == "image" else "right")
    for case, scores in rows:
        table.add_row(case.name, *(f"{scores[k]:.3f}" for k in ("mae", "f05", "fmax")))
    table.add_row("[b]mean[/b]", *(f"[b]{means[k]:.3f}[/b]" for k in ("mae", "f05", "fmax")))
    return table
