"""Query parameters of the API: the CLI's options, with the CLI's names, ranges and defaults."""

from __future__ import annotations

import inspect
from enum import IntEnum
from typing import Literal, Optional

from fastapi import Query

from ..focus import METHODS
from ..render.styles import DEFAULT_STYLE, PARAMETERS, STYLES

MethodName = Literal[METHODS]  # type: ignore[valid-type]
StyleName = Literal[tuple(STYLES)]  # type: ignore[valid-type]
#: Built-in detectors offered over HTTP (``haar:PATH`` would read server files: not offered).
DetectorName = Literal["hog", "face"]


class Depth(IntEnum):
    """Bits per sample of a grey map."""

    eight = 8
    sixteen = 16


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
        default=Query(None, ge=p.low, le=p.high,
                      description=f"{p.help} [{p.low:g}-{p.high:g}]; default: the preset's."))
    for p in PARAMETERS.values()])


def roi_options(
    threshold: str = Query("otsu", description="In-focus level in (0, 1], or 'otsu'."),
    min_area: float = Query(0.01, ge=0.0, le=0.999, description="Drop regions smaller than "
                            "this fraction of the image."),
    pad: float = Query(0.0, ge=0.0, le=10.0, description="Grow each box by this fraction of its "
                       "size on every side (clipped to the image)."),
    max_rois: Optional[int] = Query(None, alias="max", ge=1, le=10_000,
                                    description="Keep the N best."),
    merge: float = Query(0.1, ge=0.0, le=0.999, description="Join pieces closer than this "
                         "fraction of the short side (0 = every piece is its own region)."),
    aspect: Optional[str] = Query(None, max_length=32, description="W:H: instead, the smallest "
                                  "W:H window holding `fraction` of the focus mass."),
    fraction: float = Query(0.9, ge=0.01, le=1.0, description="Focus mass kept by `aspect`."),
) -> dict:
    """The options of ``dofkit roi``."""
    return dict(threshold=threshold, min_area=min_area, pad=pad, max=max_rois, merge=merge,
                aspect=aspect, fraction=fraction)


def detect_options(
    detector: DetectorName = Query("hog", description="hog (people) or face (a frontal-face "
                                   "cascade found on the server)."),
    gate: float = Query(0.5, ge=0.0, le=1.0, description="Keep detections whose focus score "
                        "is at least this."),
    threshold: float = Query(0.5, ge=0.001, le=1.0, description="Focus level counted as in "
                             "focus for the 'above' fraction."),
    on_rois: bool = Query(False, description="Run the detector only on the in-focus regions."),
    pad: Optional[float] = Query(None, ge=0.0, le=10.0, description="With on_rois: grow each "
                                 "region by this fraction of its size (default 0.15)."),
    saliency: bool = Query(False, description="Weight the focus inside each box by "
                           "spectral-residual saliency."),
) -> dict:
    """The options of ``dofkit detect`` (built-in detectors)."""
    return dict(detector=detector, gate=gate, threshold=threshold, on_rois=on_rois, pad=pad,
                saliency=saliency)
