"""`dofkit detect`: gate detections (from a built-in detector or piped in) by focus, and
optionally run the detector on the in-focus regions only."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..batch import Task
from ..errors import ParameterError
from ..pipeline import PipelineSpec, RoiSettings
from ..roi.regions import parse_threshold
from . import options
from .batch_run import execute, map_files, refuse_unused_name, side_targets
from .common import guarded, notice
from .shared import Shared, shared_options
from .focus_input import MapInput, focus_source, print_json


def read_detection_file(path: str):
    """The detections of ``--detections`` (a file, or ``-`` for stdin), parsed."""
    from ..detect import parse_detections
    from ..io.inputs import read_text_input

    return parse_detections(read_text_input(path, "the detections file"),
                            "stdin" if path == "-" else path)


def check_detection_file(given, paths: list[str]) -> None:
    """Once for all inputs and before any map is made: refuse a detections file that cannot
    be shared out among ``paths`` (InputError naming it), and say what is adopted or ignored."""
    given.check_inputs(paths)
    if given.adopted_by(paths):
        notice(f"{given.name}: the detections name image {given.entries[0][0]!r}; taken as "
               f"{paths[0]}, the only input")
    ignored = given.unmatched(paths)
    if ignored:
        counted = "1 detection names" if ignored == 1 else f"{ignored} detections name"
        notice(f"{given.name}: {counted} none of the inputs (ignored)")


@guarded
@shared_options
def detect_command(
    context: typer.Context,
    inputs: List[str] = typer.Argument(None, metavar="INPUT...", help="Images, folders or "
                                       "quoted globs ('-' = stdin)."),
    detector_name: Optional[str] = options.Detector,
    detections_path: Optional[str] = typer.Option(
        None, "--detections", metavar="FILE", help="Gate these detections instead: JSON objects "
        "with \"bbox\": [x, y, w, h] (a COCO results array) or \"xyxy\": [x1, y1, x2, y2], "
        "in px, as an array or one per line; '-' = stdin. See docs/roi-detect.md."),
    gate: float = options.Gate,
    threshold: str = options.Threshold,
    on_rois: bool = options.OnRois,
    min_area: float = options.MinArea,
    merge: float = options.Merge,
    pad: Optional[float] = options.Pad,
    use_saliency: bool = typer.Option(False, "--saliency", help="Weight the focus inside each "
                                      "box by spectral-residual saliency."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per image on stdout."),
    overlay: Optional[str] = typer.Option(None, "--overlay", metavar="PATH",
                                          help="Draw kept (green) and dropped (red) boxes: a "
                                          "file (one input) or a folder."),
    name: Optional[str] = options.name_option("in the --overlay folder and of a --map folder"),
    map_path: Optional[str] = MapInput,
    shared: Shared = None,
) -> None:
    """Score detections by the focus inside their boxes; keep those at or above --gate.

    --json prints one line per image with "image", "kept" and "dropped"; each detection keeps
    its input fields and gains a "focus" object: "mean", "above" (share of the box at or
    above --threshold), "score" (and "saliency").
    """
    if detections_path is not None and (detector_name is not None or on_rois):
        raise ParameterError("--detections gates given boxes: it takes no --detector or "
                             "--on-rois")
    for value, unused, option in ((pad, None, "--pad"), (min_area, 0.01, "--min-area"),
                                  (merge, 0.1, "--merge")):
        if not on_rois and value != unused:
            raise ParameterError(f"{option} goes with --on-rois (it shapes the regions the "
                                 "detector runs on)")
    batch = shared.batch(inputs, name=name)
    refuse_unused_name(batch, {"--overlay": overlay})
    paths = [s.path for s in batch.sources]
    if detections_path == "-" and "-" in paths:
        raise ParameterError("stdin cannot carry both an image and --detections")
    given = read_detection_file(detections_path) if detections_path is not None else None
    if given is not None:
        check_detection_file(given, paths)
    regions = RoiSettings(parse_threshold(threshold), min_area, merge, pad)
    spec = PipelineSpec("detect", {"detector": detector_name, "given": given, "gate": gate,
                                   "regions": regions, "on_rois": on_rois,
                                   "saliency": use_saliency, "overlay": overlay is not None,
                                   "single": len(paths) == 1},
                        focus_source(context, shared, map_path))
    overlays = side_targets(batch, overlay, "--overlay",
                            stdout_taken_by="--json" if as_json else None)
    tasks = [Task(s.path, {} if drawn is None else {"overlay": drawn}, given_map)
             for s, drawn, given_map in zip(batch.sources, overlays, map_files(batch, map_path))]

    def show(status: dict) -> None:
        record = status["result"]
        if as_json:
            print_json({"image": status["input"], **record})
        if not shared.quiet:
            notice(f"{status['input']}: {len(record['kept'])} kept, "
                   f"{len(record['dropped'])} dropped")

    execute(spec, tasks, batch, label="gating detections", guard=shared.guard(detections_path),
            on_status=show, stdout=as_json)
