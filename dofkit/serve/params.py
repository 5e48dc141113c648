"""Query parameters of the API: the CLI's options, with the CLI's names, ranges and defaults."""

from __future__ import annotations

import inspect
from enum import IntEnum
from typing import Literal, Optional

from fastapi import Query

from ..focus import METHODS
from ..pipeline import RoiSettings
from ..render.styles import DEFAULT_STYLE, PARAMETERS, STYLES
from ..roi.regions import parse_threshold

MethodName = Literal[METHODS]  # type: ignore[valid-type]
StyleName = Literal[tuple(STYLES)]  # type: ignore[valid-type]
#: Built-in detectors offered over HTTP (``haar:PATH`` would read server files: not offered).
DetectorName = Literal["hog", "face"]


class Depth(IntEnum):
    """Bits per sample of a grey map."""

    eight = 8
    sixteen = 16


#: Settings of a float parameter: nan and inf are refused as not finite (not as out of range).
FINITE = {"allow_inf_nan": False}

DEPTH = Query(Depth.eight, description="Bits per sample of a grey map: 8 or 16 (PNG).")

METHOD = Query("auto", description="Focus-map method (auto: the network, else analytic).")
STYLE = Query(DEFAULT_STYLE, description=f"Preset: {', '.join(STYLES)}.")
COLORMAP = Query("none", description="none: grey map, white = in focus; rainbow: red = in "
                 "focus, blue = defocused (the paper's Fig. 9).")
OVERLAY = Query(False, description="Blend the rainbow view over the photo.")


def style_overrides(**values) -> dict:
    """The style parameters given in the query (None = the preset's value)."""
    return {name: value for name, value in values.items() if value is not None}


style_overrides.__signature__ = inspect.Signature([  # one query parameter per PARAMETERS entry
    inspect.Parameter(
        p.name, inspect.Parameter.KEYWORD_ONLY,
        annotation=Optional[int] if p.integer else Optional[float],
        default=Query(None, ge=p.low, le=p.high, **({} if p.integer else FINITE),
                      description=f"{p.help} [{p.low:g}-{p.high:g}]; default: the preset's."))
    for p in PARAMETERS.values()])


THRESHOLD = Query("otsu", max_length=32, description="Focus level counted as in focus, in "
                  "(0, 1], or otsu.")
MIN_AREA = Query(0.01, ge=0.0, le=0.999, **FINITE,
                 description="Drop in-focus regions smaller than this "
                 "fraction of the image.")
MERGE = Query(0.1, ge=0.0, le=0.999, **FINITE,
                 description="Join in-focus pieces closer than this "
              "fraction of the short side.")
PAD = Query(None, ge=0.0, le=10.0, **FINITE,
            description="Grow each in-focus region by this fraction of "
            "its size on every side (default 0; 0.15 for the regions detect on_rois runs on).")


def roi_options(
    threshold: str = THRESHOLD, min_area: float = MIN_AREA, merge: float = MERGE,
    pad: Optional[float] = PAD,
    max_rois: Optional[int] = Query(None, alias="max", ge=1, le=10_000,
                                    description="Keep the N best regions."),
    aspect: Optional[str] = Query(None, max_length=32, description="W:H: instead, the smallest "
                                  "W:H window holding `fraction` of the focus mass."),
    fraction: float = Query(0.9, ge=0.01, le=1.0, **FINITE,
                            description="Focus mass kept by `aspect`."),
) -> dict:
    """The options of ``dofkit roi``, as :class:`~dofkit.pipeline.RoiStep` arguments."""
    from ..roi import parse_aspect

    regions = RoiSettings(parse_threshold(threshold), min_area, merge, pad, max_rois)
    return dict(regions=regions, aspect=parse_aspect(aspect) if aspect is not None else None,
                fraction=fraction)


def detect_options(
    detector: DetectorName = Query("hog", description="hog (people) or face (a frontal-face "
                                   "cascade found on the server)."),
    gate: float = Query(0.5, ge=0.0, le=1.0, **FINITE,
                        description="Keep detections whose focus score is at least this."),
    threshold: str = THRESHOLD,
    on_rois: bool = Query(False, description="Run the detector only on the in-focus regions "
                          "(threshold, min_area, merge, pad), not the whole frame."),
    min_area: float = MIN_AREA, merge: float = MERGE, pad: Optional[float] = PAD,
    saliency: bool = Query(False, description="Weight the focus inside each box by "
                           "spectral-residual saliency."),
) -> tuple[str, dict]:
    """The options of ``dofkit detect`` (built-in detectors): the detector's name and the
    other :class:`~dofkit.pipeline.DetectStep` arguments."""
    regions = RoiSettings(parse_threshold(threshold), min_area, merge, pad)
    return detector, dict(gate=gate, regions=regions, on_rois=on_rois, saliency=saliency)
