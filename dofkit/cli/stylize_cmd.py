"""`dofkit stylize`: focus-weighted NPR stylisation (GLSL, or the CPU reference)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..batch import Task
from ..errors import ParameterError
from ..io import STDIO
from ..pipeline import PipelineSpec
from ..render.styles import parse_setting
from . import options
from .batch_run import execute, main_targets, map_files, side_targets
from .common import guarded
from .focus_input import MapInput, focus_source
from .shared import Shared, shared_options


@guarded
@shared_options
def stylize_command(
    context: typer.Context,
    inputs: List[str] = typer.Argument(None, metavar="INPUT... [OUT]",
                                       help="Images, folders or quoted globs ('-' = stdin); "
                                            "without --out-dir or -o: IN OUT."),
    output: Optional[str] = options.Output,
    out_dir: Optional[Path] = options.OutDir,
    name: Optional[str] = options.StylizeName,
    style: options.Style = options.StyleName,
    settings: Optional[List[str]] = options.Settings,
    map_path: Optional[str] = MapInput,
    save_map: Optional[str] = typer.Option(None, "--save-map", metavar="PATH",
                                           help="Also write the focus map used (grey PNG, white "
                                           "= in focus): a file for one input, else a folder."),
    backend: options.Backend = options.BackendName,
    shared: Shared = None,
) -> None:
    """Stylise each image: in-focus parts stay detailed and get lines, the rest is abstracted.

    `dofkit stylize IN OUT`, or `dofkit stylize INPUT... --out-dir DIR`. The focus map is
    computed once per image (--method) or read from --map; an alpha channel is kept in PNG,
    TIFF and WebP outputs (JPEG and BMP have none).
    """
    inputs = list(inputs or [])
    if output is None and out_dir is None and len(inputs) == 2:
        inputs, output = inputs[:1], inputs[1]
        if output != STDIO and Path(output).exists() and not shared.overwrite:
            # IN OUT reads like two inputs: never replace an existing file on that reading.
            if inputs[0] != STDIO and Path(inputs[0]).exists() \
                    and Path(output).samefile(inputs[0]):
                raise ParameterError(f"{output} is the input itself: give the output another "
                                     "name")
            raise ParameterError(f"{output} exists and `dofkit stylize IN OUT` would replace "
                                 "it: pass --overwrite, or --out-dir DIR to stylise both")
    if output is None and out_dir is None:
        raise ParameterError("name the output: `dofkit stylize IN OUT`, -o FILE (one input) "
                             "or --out-dir DIR (any number)")
    overrides = dict(parse_setting(text) for text in settings or ())
    batch = shared.batch(inputs, output, out_dir, name)
    targets = main_targets(batch, style=style.value)
    maps = side_targets(batch, save_map, "--save-map", style=style.value)
    spec = PipelineSpec("stylize", {"style": style.value, "backend": backend.value,
                                    "settings": overrides, "with_map": save_map is not None},
                        focus_source(context, shared, map_path))
    tasks = [Task(s.path, {"styled": t, **({"map": m} if m else {})}, given)
             for s, t, m, given in zip(batch.sources, targets, maps,
                                       map_files(batch, map_path, style=style.value))]
    execute(spec, tasks, batch, label="stylising", guard=shared.guard())
