"""The consumers of a focus map, each one image (and its map) -> :class:`Result`.

Every front end (CLI, video frames, Ray, HTTP) runs these, so a consumer answers the same
everywhere. Heavy state (the GL stylizer) is made on the first call, in the calling thread.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ParameterError
from ..io import Picture
from .result import Rendered, Result

MAP_VIEWS = ("grey", "rainbow", "overlay")


def _warn(message: str) -> None:
    print(f"dofkit: {message}", file=sys.stderr)


@dataclass(frozen=True)
class RoiSettings:
    """How in-focus regions are found (:func:`dofkit.roi.find_rois`): ``threshold`` in (0, 1]
    or ``"otsu"``; ``min_area`` and ``merge`` fractions in [0, 1); ``pad`` in [0, 100] (None:
    the consumer's default); ``max_rois`` >= 1 or None. Checked when made (ParameterError)."""

    threshold: float | str = "otsu"
    min_area: float = 0.01
    merge: float = 0.1
    pad: float | None = None
    max_rois: int | None = None

    def __post_init__(self):
        from ..roi.regions import check_region_parameters, check_threshold

        check_threshold(self.threshold)
        check_region_parameters(self.min_area, 0.0 if self.pad is None else self.pad,
                                self.max_rois, self.merge)

    def find(self, focus: np.ndarray, pad: float = 0.0) -> list:
        from ..roi import find_rois

        return find_rois(focus, self.threshold, min_area=self.min_area, merge=self.merge,
                         pad=pad, max_rois=self.max_rois)


def _check_regions(regions) -> None:
    if not isinstance(regions, RoiSettings):
        raise ParameterError(f"regions must be a RoiSettings; got {type(regions).__name__}",
                             "regions")


class MapStep:
    """The focus map as a picture: ``view`` grey (white = in focus, ``depth`` 8 or 16),
    rainbow (red = in focus) or overlay (rainbow over the photo). Role ``"map"``."""

    roles = ("map",)

    def __init__(self, view: str = "grey", depth: int = 8):
        if view not in MAP_VIEWS:
            raise ParameterError(f"view must be one of {', '.join(MAP_VIEWS)}; got {view!r}",
                                 "view")
        if depth not in (8, 16) or (depth == 16 and view != "grey"):
            raise ParameterError(f"depth must be 8, or 16 for the grey view; got {depth}",
                                 "depth")
        self.view, self.depth = view, depth

    def __call__(self, picture: Picture, focus: np.ndarray) -> Result:
        from ..view import overlay, rainbow

        if self.view == "rainbow":
            return Result({"map": Rendered(rainbow(focus))})
        if self.view == "overlay":
            return Result({"map": Rendered(overlay(picture.rgb, focus))})
        return Result({"map": Rendered(focus, self.depth)})


class StylizeStep:
    """Focus-weighted stylisation (:class:`dofkit.render.Stylizer`), role ``"styled"`` (the
    source's alpha kept); with ``with_map`` also the grey map used, role ``"map"``."""

    roles = ("styled", "map")

    def __init__(self, style: str = "toon", backend: str = "auto", *, settings: dict | None = None,
                 with_map: bool = False, notify: Callable[[str], None] = _warn):
        from ..render.styles import resolve
        from ..render.stylizer import check_backend

        check_backend(backend)
        if settings is not None and not isinstance(settings, dict):
            raise ParameterError(f"settings must be a dict of style parameters; got "
                                 f"{type(settings).__name__}", "settings")
        resolve(style, **(settings or {}))  # refuse a bad style or setting now, not per image
        self.style, self.backend, self.settings = style, backend, dict(settings or {})
        self.with_map, self._notify, self._stylizer = with_map, notify, None

    @property
    def stylizer(self):
        """The Stylizer, made on first use (a GL context belongs to the thread that made it)."""
        if self._stylizer is None:
            from ..render import Stylizer

            self._stylizer = Stylizer(self.style, self.backend, notify=self._notify,
                                      **self.settings)
        return self._stylizer

    def __call__(self, picture: Picture, focus: np.ndarray) -> Result:
        images = {"styled": Rendered(self.stylizer(picture.rgb, focus), alpha=picture.alpha)}
        if self.with_map:
            images["map"] = Rendered(focus)
        return Result(images)

    def close(self) -> None:
        if self._stylizer is not None:
            self._stylizer.close()
            self._stylizer = None


class RoiStep:
    """Boxes around the in-focus regions (or one ``aspect`` W:H window holding ``fraction``
    of the focus mass). Record ``{"width", "height", "rois": [...]}``; with ``crops`` the
    roles ``"crop0"``, ``"crop1"``, ...; with ``overlay`` the boxes drawn, role ``"overlay"``."""

    roles = ("overlay", "crop")

    def __init__(self, regions: RoiSettings = RoiSettings(), *, aspect=None,
                 fraction: float = 0.9, crops: bool = False, overlay: bool = False):
        _check_regions(regions)
        if aspect is not None:
            from ..roi.aspect import check_aspect, check_fraction

            aspect = check_aspect(aspect)
            check_fraction(fraction)
        self.regions, self.aspect, self.fraction = regions, aspect, fraction
        self.crops, self.overlay = crops, overlay

    def rois(self, focus: np.ndarray) -> list:
        if self.aspect is not None:
            from ..roi import aspect_crop

            crop = aspect_crop(focus, self.aspect, fraction=self.fraction,
                               threshold=self.regions.threshold)
            return [crop] if crop else []
        return self.regions.find(focus, self.regions.pad or 0.0)

    def __call__(self, picture: Picture, focus: np.ndarray) -> Result:
        rois = self.rois(focus)
        images = {}
        if self.crops:
            for index, roi in enumerate(rois):
                alpha = roi.crop(picture.alpha) if picture.alpha is not None else None
                images[f"crop{index}"] = Rendered(roi.crop(picture.rgb), picture.bit_depth,
                                                  alpha)
        if self.overlay:
            from ..roi.draw import YELLOW, draw_boxes

            images["overlay"] = Rendered(draw_boxes(
                picture.rgb, [roi.xyxy for roi in rois],
                [f"{i} {roi.score:.2f}" for i, roi in enumerate(rois)], [YELLOW] * len(rois)))
        width, height = picture.size
        return Result(images, {"width": width, "height": height,
                               "rois": [roi.to_json() for roi in rois]})


class DetectStep:
    """Detections gated by the focus inside their boxes (:func:`dofkit.detect.gate_detections`).

    ``detector``: a built-in name (hog, face, haar:PATH) or any :class:`dofkit.detect.Detector`
    (image -> detections) run on the image, or on the in-focus
    regions with ``on_rois`` (grown by ``regions.pad``, default 0.15); or ``given``, a
    :class:`dofkit.detect.DetectionFile` of boxes to gate (``single`` when there is one input).
    ``gate`` in [0, 1]; ``regions.threshold`` is the in-focus level of the 'above' fraction.
    Record ``{"kept": [...], "dropped": [...]}``; with ``overlay`` role ``"overlay"``.
    """

    roles = ("overlay",)

    def __init__(self, detector="hog", *, given=None, gate: float = 0.5,
                 regions: RoiSettings = RoiSettings(), on_rois: bool = False,
                 saliency: bool = False, overlay: bool = False, single: bool = False):
        from ..detect.gate import check_gate

        check_gate(gate)
        _check_regions(regions)
        if given is None and not (detector is None or callable(detector)
                                  or isinstance(detector, str)):
            raise ParameterError(f"detector must be a built-in name (hog, face, haar:PATH) or "
                                 f"a callable; got {detector!r}", "detector")
        self.given, self.gate, self.regions, self.on_rois = given, gate, regions, on_rois
        self.saliency, self.overlay, self.single = saliency, overlay, single
        self._made = None
        if given is None and callable(detector):
            self._made = detector
        elif given is None:
            from ..detect import make_detector

            self._made = make_detector(detector or "hog")

    def detections(self, picture: Picture, focus: np.ndarray) -> list:
        if self.given is not None:
            from ..detect.records import check_boxes

            found = self.given.for_image(picture.name, self.single)
            check_boxes(found, picture.size, f"{self.given.name} ({picture.name})")
            return found
        if not self.on_rois:
            return list(self._made(picture.rgb))
        from ..detect import detect_on_rois

        pad = 0.15 if self.regions.pad is None else self.regions.pad
        return detect_on_rois(self._made, picture.rgb, self.regions.find(focus), pad=pad)

    def __call__(self, picture: Picture, focus: np.ndarray) -> Result:
        from ..detect import gate_detections, saliency_map
        from ..roi.regions import resolve_threshold

        level = resolve_threshold(focus, self.regions.threshold)
        weights = saliency_map(picture.rgb) if self.saliency else None
        result = gate_detections(self.detections(picture, focus), focus, self.gate, level,
                                 saliency=weights)
        images = {}
        if self.overlay:
            from ..roi.draw import GREEN, RED, draw_boxes

            marked = [(g, GREEN) for g in result.kept] + [(g, RED) for g in result.dropped]
            images["overlay"] = Rendered(draw_boxes(
                picture.rgb, [tuple(round(v) for v in g.detection.xyxy) for g, _ in marked],
                [f"{g.detection.label or ''} {g.focus.score:.2f}".strip() for g, _ in marked],
                [colour for _, colour in marked]))
        return Result(images, {"kept": [g.to_json() for g in result.kept],
                               "dropped": [g.to_json() for g in result.dropped]})
