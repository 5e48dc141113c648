"""`dofkit map`: focus maps as images (grey, rainbow view, or overlay on the photo)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..batch import Task
from ..errors import ParameterError
from ..io import SIXTEEN_BIT_SUFFIXES, STDIO
from ..pipeline import PipelineSpec
from . import options
from .batch_run import execute, main_targets
from .common import guarded
from .shared import Shared, shared_options


class Colormap(str, Enum):
    none = "none"
    rainbow = "rainbow"


@guarded
@shared_options
def map_command(
    inputs: List[str] = typer.Argument(None, metavar="INPUT...", help="Images, folders or "
                                       "quoted globs ('-' = stdin)."),
    output: Optional[str] = options.Output,
    out_dir: Optional[Path] = options.OutDir,
    name: Optional[str] = options.Name,
    colormap: Colormap = typer.Option(Colormap.none, "--colormap", "-c",
                                      help="none: grey map, white = in focus; rainbow: red = in "
                                           "focus, blue = defocused (the paper's Fig. 9)."),
    overlay: bool = typer.Option(False, "--overlay", help="Blend the rainbow view over the photo."),
    depth: int = typer.Option(8, "--depth", help="Bits per sample of a grey map: 8 or 16."),
    shared: Shared = None,
) -> None:
    """Write the focus map of each input, same size as the input (PNG unless the suffix says)."""
    if depth not in (8, 16):
        raise ParameterError(f"--depth must be 8 or 16, got {depth}")
    if depth == 16 and (overlay or colormap is not Colormap.none):
        raise ParameterError("--depth 16 applies to grey maps; the rainbow view and the "
                             "overlay are 8-bit pictures")
    batch = shared.batch(inputs, output, out_dir, name)
    targets = main_targets(batch)
    if depth == 16:
        for target in targets:
            if target != STDIO and Path(target).suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
                raise ParameterError(f"{target}: --depth 16 needs a PNG or TIFF output")
    view = "overlay" if overlay else ("rainbow" if colormap is Colormap.rainbow else "grey")
    spec = PipelineSpec("map", {"view": view, "depth": depth}, shared.focus())
    tasks = [Task(s.path, {"map": t}) for s, t in zip(batch.sources, targets)]
    execute(spec, tasks, batch, label="mapping", guard=shared.guard())
