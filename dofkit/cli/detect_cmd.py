"""`dofkit detect`: gate detections (from a built-in detector or piped in) by focus, and
optionally run the detector on the in-focus regions only."""

from __future__ import annotations

import sys
import time
from typing import List, Optional

import typer

from ..errors import ParameterError
from . import options
from .common import guarded, notice, run_batch
from .focus_input import MapInput, focus_source, overlay_targets, print_json


def read_detection_file(path: str):
    """The detections of ``--detections`` (a file, or ``-`` for stdin), parsed."""
    from pathlib import Path

    from ..detect import parse_detections

    if path == "-":
        return parse_detections(sys.stdin.read(), "stdin")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})"
                             ) from None
    return parse_detections(text, path)


@guarded
def detect_command(
    inputs: List[str] = typer.Argument(..., metavar="IN...", help="Images ('-' = stdin)."),
    detector_name: Optional[str] = typer.Option(
        None, "--detector", "-d", help="Built-in detector: hog (people), face (a frontal-face "
        "cascade found on this machine) or haar:PATH (any OpenCV cascade XML). Default hog."),
    detections_path: Optional[str] = typer.Option(
        None, "--detections", help="Gate these detections instead (JSON: COCO results or "
        "xyxy boxes; '-' = stdin). See docs/roi-detect.md."),
    gate: float = typer.Option(0.5, "--gate", "-g", min=0.0, max=1.0,
                               help="Keep detections whose focus score is at least this."),
    threshold: float = typer.Option(0.5, "--threshold", "-t", min=0.001, max=1.0,
                                    help="Focus level counted as in focus for the 'above' "
                                         "fraction."),
    on_rois: bool = typer.Option(False, "--on-rois", help="Run the detector only on the "
                                 "in-focus regions (dofkit roi defaults), not the whole frame."),
    pad: Optional[float] = typer.Option(None, "--pad", help="With --on-rois: grow each region "
                                        "by this fraction of its size before detecting "
                                        "(default 0.15)."),
    use_saliency: bool = typer.Option(False, "--saliency", help="Weight the focus inside each "
                                      "box by spectral-residual saliency."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per image on stdout."),
    overlay: Optional[str] = typer.Option(None, "--overlay", help="Draw kept (green) and "
                                          "dropped (red) boxes: a file (one input) or a folder."),
    map_path: Optional[str] = MapInput,
    method: str = options.Method,
    device: str = options.Device,
    threads: Optional[int] = options.Threads,
    weights: Optional[str] = options.Weights,
    max_pixels: Optional[int] = options.MaxPixels,
    overwrite: bool = options.Overwrite,
) -> None:
    """Score detections by the focus inside their boxes; keep those at or above --gate.

    --json prints one line per image with "image", "kept" and "dropped"; each detection keeps
    its input fields and gains a "focus" object: "mean", "above", "score" (and "saliency").
    """
    from ..detect import detect_on_rois, gate_detections, make_detector, saliency_map
    from ..detect.records import check_boxes
    from ..io import open_image, write_image
    from ..roi import find_rois
    from ..roi.draw import GREEN, RED, draw_boxes

    if detections_path is not None and (detector_name is not None or on_rois):
        raise ParameterError("--detections gates given boxes: it takes no --detector or "
                             "--on-rois")
    if pad is not None and not on_rois:
        raise ParameterError("--pad goes with --on-rois (it grows the regions the detector "
                             "runs on)")
    if pad is not None and pad < 0:
        raise ParameterError(f"--pad must be >= 0 (a fraction of the region's size); got {pad}")
    if detections_path == "-" and "-" in inputs:
        raise ParameterError("stdin cannot carry both an image and --detections")
    given = read_detection_file(detections_path) if detections_path is not None else None
    detector = None if given is not None else make_detector(detector_name or "hog")
    if given is not None and given.adopted_by(inputs):
        key = given.entries[0][0]
        notice(f"{given.name}: the detections name image {key!r}; taken as {inputs[0]}, the "
               "only input")
    if given is not None and given.unmatched(inputs):
        notice(f"{given.name}: {given.unmatched(inputs)} detections name none of the inputs "
               "(ignored)")
    overlays = overlay_targets(inputs, overlay)
    focus_for = focus_source(inputs, map_path, method, device, threads, weights)

    def one(source: str) -> None:
        picture = open_image(source, max_pixels=max_pixels)
        focus = focus_for(source, picture)
        if given is not None:
            found = given.for_image(source, len(inputs) == 1)
            check_boxes(found, picture.size, f"{given.name} ({source})")
        else:
            start = time.perf_counter()
            if on_rois:
                rois = find_rois(focus)
                found = detect_on_rois(detector, picture.rgb, rois,
                                       pad=0.15 if pad is None else pad)
            else:
                found = list(detector(picture.rgb))
            took = 1000 * (time.perf_counter() - start)
            where = f"{len(rois)} in-focus region(s)" if on_rois else "the whole frame"
            notice(f"{source}: detector ran on {where} in {took:.0f} ms")
        saliency = saliency_map(picture.rgb) if use_saliency else None
        result = gate_detections(found, focus, gate, threshold, saliency=saliency)
        if source in overlays:
            marked = [(g, GREEN) for g in result.kept] + [(g, RED) for g in result.dropped]
            drawn = draw_boxes(
                picture.rgb, [tuple(round(v) for v in g.detection.xyxy) for g, _ in marked],
                [f"{g.detection.label or ''} {g.focus.score:.2f}".strip() for g, _ in marked],
                [colour for _, colour in marked])
            write_image(overlays[source], drawn, inputs=tuple(inputs), overwrite=overwrite)
        if as_json:
            print_json({"image": source, "kept": [g.to_json() for g in result.kept],
                        "dropped": [g.to_json() for g in result.dropped]})
        notice(f"{source}: {len(result.kept)} kept, {len(result.dropped)} dropped")

    run_batch(inputs, one, "gating detections")
