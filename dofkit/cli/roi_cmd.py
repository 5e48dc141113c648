"""`dofkit roi`: boxes around the in-focus regions (JSON Lines, crops, overlay)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..batch import Task, place
from ..errors import ParameterError
from ..io import STDIO, WRITE_SUFFIXES
from ..pipeline import PipelineSpec, RoiSettings
from ..roi.regions import parse_threshold
from . import options
from .batch_run import execute, map_files, name_stem, refuse_unused_name, side_targets
from .common import guarded, notice, refuse_unused
from .shared import Shared, shared_options
from .focus_input import MapInput, focus_source, print_json


@guarded
@shared_options
def roi_command(
    context: typer.Context,
    inputs: List[str] = typer.Argument(None, metavar="INPUT...", help="Images, folders or "
                                       "quoted globs ('-' = stdin)."),
    threshold: str = options.Threshold,
    min_area: float = options.MinArea,
    pad: Optional[float] = options.Pad,
    max_rois: Optional[int] = options.MaxRois,
    merge: float = options.Merge,
    aspect: Optional[str] = typer.Option(None, "--aspect", metavar="W:H",
                                         help="Instead: the smallest W:H window holding "
                                              "--fraction of the focus mass (thumbnails)."),
    fraction: float = typer.Option(0.9, "--fraction", min=0.01, max=1.0,
                                   help="Focus mass kept by --aspect."),
    crop_dir: Optional[Path] = typer.Option(None, "--crop-dir", file_okay=False,
                                            help="Write each region as <stem>-roi<i>.<ext>."),
    overlay: Optional[str] = typer.Option(None, "--overlay", metavar="PATH",
                                          help="Draw the boxes on the photo: a file (one input) "
                                          "or a folder."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per image on stdout."),
    name: Optional[str] = options.name_option(
        "in the --overlay and --crop-dir folders (crops: its stem + -roi<i>) and of a --map "
        "folder", default="{stem}.png"),
    map_path: Optional[str] = MapInput,
    shared: Shared = None,
) -> None:
    """Find the in-focus regions of each image: boxes sorted by focus mass.

    --json prints one line per image with "image", "width", "height" and "rois", each ROI
    with "bbox" (x, y, w, h), "xyxy" (x1, y1, x2, y2), "score" (mean focus) and "area"
    (in-focus pixels). Crops and overlays are written atomically.
    """
    from ..roi import parse_aspect

    window = parse_aspect(aspect) if aspect is not None else None
    if window is not None:
        refuse_unused(context, ("pad", "max_rois", "min_area", "merge"),
                      "with --aspect (it gives one window)")
    else:
        refuse_unused(context, ("fraction",), "without --aspect")
    batch = shared.batch(inputs, name=name)
    if crop_dir is None:  # a crop folder takes the names
        refuse_unused_name(batch, {"--crop-dir": None, "--overlay": overlay})
    regions = RoiSettings(parse_threshold(threshold), min_area, merge, pad, max_rois)
    spec = PipelineSpec("roi", {"regions": regions, "aspect": window, "fraction": fraction,
                                "crops": crop_dir is not None, "overlay": overlay is not None},
                        focus_source(context, shared, map_path))
    if crop_dir is not None and str(crop_dir) == STDIO:
        raise ParameterError("--crop-dir '-': give a folder (crops are several files)")
    crops = (place(batch.sources, name_stem(batch) + "-roi{{index}}", crop_dir, pattern=True)
             if crop_dir else [None] * len(batch.sources))
    tasks = []
    overlays = side_targets(batch, overlay, "--overlay",
                            stdout_taken_by="--json" if as_json else None)
    for source, crop, drawn, given in zip(batch.sources, crops, overlays,
                                          map_files(batch, map_path)):
        targets = {} if drawn is None else {"overlay": drawn}
        if crop is not None:
            suffix = Path(source.path).suffix.lower()
            targets["crop"] = crop + (suffix if source.path != STDIO
                                      and suffix in WRITE_SUFFIXES else ".png")
        tasks.append(Task(source.path, targets, given))

    def show(status: dict) -> None:
        record = status["result"]
        if as_json:
            print_json({"image": status["input"], **record})
        if not shared.quiet:
            rois = record["rois"]
            boxes = ", ".join(f"[{' '.join(map(str, r['bbox']))}] {r['score']:.2f}" for r in rois)
            notice(f"{status['input']}: {len(rois)} region{'s' * (len(rois) != 1)}"
                   f"{' ([x y w h] px, score): ' + boxes if rois else ''}")

    execute(spec, tasks, batch, label="finding regions", guard=shared.guard(), on_status=show,
            stdout=as_json)
