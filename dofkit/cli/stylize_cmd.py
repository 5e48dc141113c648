"""`dofkit stylize`: focus-weighted NPR stylisation of one image (GLSL, or the CPU reference)."""

from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from ..render.styles import DEFAULT_STYLE, PARAMETERS, STYLES, parse_setting
from . import options
from .common import guarded, notice

Style = Enum("Style", {name: name for name in STYLES}, type=str)


class Backend(str, Enum):
    auto = "auto"
    gl = "gl"
    cpu = "cpu"


_PARAMETER_HELP = "; ".join(f"{p.name} [{p.low:g}-{p.high:g}]: {p.help}"
                            for p in PARAMETERS.values())


@guarded
def stylize_command(
    source: str = typer.Argument(..., metavar="IN", help="Image to stylise ('-' = stdin)."),
    target: str = typer.Argument(..., metavar="OUT", help="Output image ('-' = PNG on stdout)."),
    style: Style = typer.Option(DEFAULT_STYLE, "--style", "-s",
                                help=f"Preset: {', '.join(STYLES)}."),
    settings: Optional[List[str]] = typer.Option(
        None, "--set", metavar="NAME=VALUE",
        help=f"Override a preset parameter (repeatable). {_PARAMETER_HELP}."),
    method: str = options.Method,
    map_path: Optional[str] = options.MapPath,
    save_map: Optional[str] = typer.Option(None, "--save-map", help="Also write the focus map "
                                           "used (grey PNG, white = in focus).", dir_okay=False),
    backend: Backend = typer.Option(Backend.auto, "--backend",
                                    help="gl: EGL OpenGL; cpu: numpy reference; auto: gl, else "
                                         "cpu with a notice."),
    device: str = options.Device,
    threads: Optional[int] = options.Threads,
    weights: Optional[str] = options.Weights,
    max_pixels: Optional[int] = options.MaxPixels,
    overwrite: bool = options.Overwrite,
) -> None:
    """Stylise IN into OUT: in-focus parts stay detailed and get lines, the rest is abstracted.

    The focus map is computed once (--method) or read from --map; an alpha channel is kept.
    """
    from ..focus import FocusEstimator
    from ..io import open_image, read_focus_map, write_image
    from ..render import Stylizer

    overrides = dict(parse_setting(text) for text in settings or ())
    stylizer = Stylizer(style.value, backend.value, notify=notice, **overrides)
    with stylizer:
        picture = open_image(source, max_pixels=max_pixels)
        if map_path is not None:
            focus = read_focus_map(map_path, picture.size)
        else:
            estimator = FocusEstimator(method, device=device, threads=threads, weights=weights,
                                       notify=notice)
            focus = estimator(picture.rgb)
        if save_map is not None:
            write_image(save_map, focus, inputs=(source, target), overwrite=overwrite)
        styled = stylizer(picture.rgb, focus)
    write_image(target, styled, alpha=picture.alpha, inputs=(source,), overwrite=overwrite)
