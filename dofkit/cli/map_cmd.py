"""`dofkit map`: focus maps as images (grey, rainbow view, or overlay on the photo)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import ParameterError
from ..focus import FocusEstimator
from ..io import SIXTEEN_BIT_SUFFIXES, STDIO, open_image, write_image
from ..view import overlay as blend_overlay
from ..view import rainbow
from . import options
from .common import guarded, output_paths, run_batch


class Colormap(str, Enum):
    none = "none"
    rainbow = "rainbow"


@guarded
def map_command(
    inputs: List[str] = typer.Argument(..., help="Images to map ('-' = stdin)."),
    output: Optional[str] = options.Output,
    out_dir: Optional[Path] = options.OutDir,
    method: str = options.Method,
    colormap: Colormap = typer.Option(Colormap.none, "--colormap", "-c",
                                      help="none: grey map, white = in focus; rainbow: red = in "
                                           "focus, blue = defocused (the paper's Fig. 9)."),
    overlay: bool = typer.Option(False, "--overlay", help="Blend the rainbow view over the photo."),
    depth: int = typer.Option(8, "--depth", help="Bits per sample of a grey map: 8 or 16."),
    device: str = options.Device,
    threads: Optional[int] = options.Threads,
    weights: Optional[str] = options.Weights,
    max_pixels: Optional[int] = options.MaxPixels,
    overwrite: bool = options.Overwrite,
) -> None:
    """Write the focus map of each input, same size as the input (PNG unless the suffix says)."""
    if depth not in (8, 16):
        raise ParameterError(f"--depth must be 8 or 16, got {depth}")
    if depth == 16 and (overlay or colormap is not Colormap.none):
        raise ParameterError("--depth 16 applies to grey maps; the rainbow view and the "
                             "overlay are 8-bit pictures")
    pairs = list(output_paths(inputs, output, out_dir))
    if depth == 16:
        for _, target in pairs:
            if target != STDIO and Path(target).suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
                raise ParameterError(f"{target}: --depth 16 needs a PNG or TIFF output")
    estimator = FocusEstimator(method, device=device, threads=threads, weights=weights)

    def one(pair: tuple[str, str]) -> None:
        source, target = pair
        picture = open_image(source, max_pixels=max_pixels)
        focus = estimator(picture.rgb)
        if overlay:
            picture_out, bits = blend_overlay(picture.rgb, focus), 8
        elif colormap is Colormap.rainbow:
            picture_out, bits = rainbow(focus), 8
        else:
            picture_out, bits = focus, depth
        write_image(target, picture_out, depth=bits, inputs=(source,), overwrite=overwrite)

    run_batch(pairs, one, "mapping")
