"""`dofkit roi`: boxes around the in-focus regions (JSON Lines, crops, overlay)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import ParameterError
from . import options
from .common import guarded, notice, output_paths, refuse_unused, run_batch
from .focus_input import (MapInput, focus_source, overlay_targets, parse_threshold,
                          print_json)


@guarded
def roi_command(
    context: typer.Context,
    inputs: List[str] = typer.Argument(..., metavar="IN...", help="Images ('-' = stdin)."),
    threshold: str = typer.Option("otsu", "--threshold", "-t",
                                  help="In-focus level in (0, 1], or 'otsu'."),
    min_area: float = typer.Option(0.01, "--min-area", min=0.0, max=0.999,
                                   help="Drop regions smaller than this fraction of the image."),
    pad: float = typer.Option(0.0, "--pad", min=0.0,
                              help="Grow each box by this fraction of its size on every side "
                                   "(clipped to the image)."),
    max_rois: Optional[int] = typer.Option(None, "--max", min=1, help="Keep the N best."),
    merge: float = typer.Option(0.1, "--merge", min=0.0, max=0.999,
                                help="Join pieces closer than this fraction of the short side "
                                     "(0 = every piece is its own region)."),
    aspect: Optional[str] = typer.Option(None, "--aspect", metavar="W:H",
                                         help="Instead: the smallest W:H window holding "
                                              "--fraction of the focus mass (thumbnails)."),
    fraction: float = typer.Option(0.9, "--fraction", min=0.01, max=1.0,
                                   help="Focus mass kept by --aspect."),
    crop_dir: Optional[Path] = typer.Option(None, "--crop-dir", file_okay=False,
                                            help="Write each region as <stem>-roi<i>.<ext>."),
    overlay: Optional[str] = typer.Option(None, "--overlay", help="Draw the boxes on the photo: "
                                          "a file (one input) or a folder."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per image on stdout."),
    map_path: Optional[str] = MapInput,
    method: str = options.Method,
    device: str = options.Device,
    threads: Optional[int] = options.Threads,
    weights: Optional[str] = options.Weights,
    max_pixels: Optional[int] = options.MaxPixels,
    overwrite: bool = options.Overwrite,
) -> None:
    """Find the in-focus regions of each image: boxes sorted by focus mass.

    --json prints one line per image with "image", "width", "height" and "rois", each ROI
    with "bbox" (x, y, w, h), "xyxy" (x1, y1, x2, y2), "score" (mean focus) and "area"
    (in-focus pixels). Crops and overlays are written atomically.
    """
    from ..io import STDIO, open_image, write_image
    from ..io import WRITE_SUFFIXES
    from ..roi import aspect_crop, find_rois, parse_aspect
    from ..roi.draw import YELLOW, draw_boxes

    level = parse_threshold(threshold)
    window = parse_aspect(aspect) if aspect is not None else None
    if window is not None:
        refuse_unused(context, ("pad", "max_rois", "min_area", "merge"),
                      "with --aspect (it gives one window)")
    else:
        refuse_unused(context, ("fraction",), "without --aspect")
    crop_bases = dict(output_paths(inputs, None, crop_dir, "")) if crop_dir else {}
    overlays = overlay_targets(inputs, overlay)
    focus_for = focus_source(inputs, map_path, method, device, threads, weights)

    def one(source: str) -> None:
        picture = open_image(source, max_pixels=max_pixels)
        focus = focus_for(source, picture)
        if window is not None:
            crop = aspect_crop(focus, window, fraction=fraction, threshold=level)
            rois = [crop] if crop else []
        else:
            rois = find_rois(focus, level, min_area=min_area, pad=pad, max_rois=max_rois,
                             merge=merge)
        if source in crop_bases:
            suffix = Path(source).suffix.lower()
            suffix = suffix if source != STDIO and suffix in WRITE_SUFFIXES else ".png"
            for index, roi in enumerate(rois):
                alpha = roi.crop(picture.alpha) if picture.alpha is not None else None
                write_image(f"{crop_bases[source]}-roi{index}{suffix}", roi.crop(picture.rgb),
                            depth=picture.bit_depth, alpha=alpha, inputs=tuple(inputs),
                            overwrite=overwrite)
        if source in overlays:
            drawn = draw_boxes(picture.rgb, [roi.xyxy for roi in rois],
                               [f"{i} {roi.score:.2f}" for i, roi in enumerate(rois)],
                               [YELLOW] * len(rois))
            write_image(overlays[source], drawn, inputs=tuple(inputs), overwrite=overwrite)
        if as_json:
            width, height = picture.size
            print_json({"image": source, "width": width, "height": height,
                        "rois": [roi.to_json() for roi in rois]})
        boxes = ", ".join(f"[{roi.x} {roi.y} {roi.w} {roi.h}] {roi.score:.2f}" for roi in rois)
        notice(f"{source}: {len(rois)} region{'s' * (len(rois) != 1)}"
               f"{': ' + boxes if rois else ''}")

    run_batch(inputs, one, "finding regions")
