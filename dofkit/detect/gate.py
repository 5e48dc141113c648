"""Focus gating: score each detection box by the focus inside it, keep the in-focus ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import cv2
import numpy as np

from ..errors import ImageError, ParameterError
from ..focus import check_rgb
from ..io import check_unit_range, to_uint
from ..roi.boxes import BoxMeans, clip_box
from ..roi.regions import check_focus, real_number
from .base import Detection

#: How far (pixels) a box may reach over the image edge (rounding) before it is refused.
EDGE_TOLERANCE = 1.0


@dataclass(frozen=True)
class FocusScore:
    """Focus inside one box.

    Attributes
    ----------
    mean : mean focus, in [0, 1].
    above : fraction of the box's pixels whose focus is >= the threshold, in [0, 1].
    saliency : mean spectral-residual saliency (in [0, 1]), or None when not used.
    score : what the gate compares: ``mean``, or with saliency the saliency-weighted mean
        focus (pixels that stand out, usually the object rather than the background inside a
        loose box, count more), in [0, 1].
    """

    mean: float
    above: float
    saliency: float | None
    score: float

    def to_json(self) -> dict:
        document = {"mean": round(self.mean, 4), "above": round(self.above, 4)}
        if self.saliency is not None:
            document["saliency"] = round(self.saliency, 4)
        return {**document, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Gated:
    """A detection with its focus score and the gate's verdict."""

    detection: Detection
    focus: FocusScore
    kept: bool

    def to_json(self) -> dict:
        """The detection's JSON (input fields kept) with a ``focus`` object added."""
        return {**self.detection.to_json(), "focus": self.focus.to_json()}


@dataclass(frozen=True)
class GateResult:
    """Detections split by the gate, each list in input order."""

    kept: list[Gated]
    dropped: list[Gated]


def box_problem(box: Sequence[float], size: tuple[int, int]) -> str | None:
    """Why ``box`` (x1, y1, x2, y2) cannot be scored in an image of ``size`` = (width,
    height), or None when it can: it must cover part of a pixel, and may reach over the
    edge by :data:`EDGE_TOLERANCE` at most."""
    if len(box) != 4 or not all(np.isfinite(v) for v in box):
        return "coordinates are not 4 finite numbers"
    x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        return "box is empty (x2 <= x1 or y2 <= y1)"
    width, height = size
    edge = EDGE_TOLERANCE
    if (x1 < -edge or y1 < -edge or x2 > width + edge or y2 > height + edge
            or x1 >= width or y1 >= height or x2 <= 0 or y2 <= 0):  # past it, or no pixel in it
        return f"box lies outside the {width}x{height} image"
    return None


def saliency_map(image: np.ndarray) -> np.ndarray:
    """OpenCV's spectral-residual saliency (Hou & Zhang 2007) of float RGB (H, W, 3) in
    [0, 1] -> float32 (H, W) in [0, 1], scaled by its maximum (ParameterError naming
    ``image`` for anything else)."""
    check_rgb(image)
    saliency = cv2.saliency.StaticSaliencySpectralResidual_create()
    ok, values = saliency.computeSaliency(to_uint(image))
    if not ok:
        raise ImageError("saliency could not be computed for this image (OpenCV's spectral "
                         "residual failed)")
    values = np.asarray(values, np.float32)
    peak = float(values.max())
    return values / peak if peak > 0 else values


def as_detections(detections: Iterable[Detection]) -> list[Detection]:
    """``detections`` (what a detector returned) as a list; ParameterError naming
    ``detections`` unless it is an iterable of :class:`Detection` objects."""
    if isinstance(detections, (str, bytes)) or not isinstance(detections, Iterable):
        raise ParameterError(f"detections must be a list of dofkit.Detection objects; got "
                             f"{type(detections).__name__}", "detections")
    detections = list(detections)  # an iterator is read once
    strangers = [d for d in detections if not isinstance(d, Detection)]
    if strangers:
        raise ParameterError(f"detections must be dofkit.Detection objects, e.g. "
                             f"Detection((x1, y1, x2, y2), score, label); got "
                             f"{type(strangers[0]).__name__}", "detections")
    return detections


def check_gate(gate: float) -> None:
    """ParameterError naming ``gate`` unless it is a number in [0, 1]."""
    if not 0.0 <= real_number(gate, "gate") <= 1.0:
        raise ParameterError(f"gate must be a number in [0, 1]; got {gate!r}", "gate")


def gate_detections(detections: Iterable[Detection], focus: np.ndarray, gate: float = 0.5,
                    threshold: float = 0.5, *, saliency: np.ndarray | None = None
                    ) -> GateResult:
    """Score every detection by the focus inside its box and keep those with score >= gate.

    Parameters
    ----------
    detections : boxes in the pixel coordinates of ``focus`` (up to
        :data:`EDGE_TOLERANCE` px over the edge is clipped; further raises ParameterError).
    focus : float (H, W) in [0, 1], 1 = in focus.
    gate : keep a detection when its :class:`FocusScore` ``score`` >= gate, in [0, 1].
    threshold : focus level counted as in focus for ``above``, in (0, 1].
    saliency : float (H, W) in [0, 1] from :func:`saliency_map`, or None.

    >>> import numpy as np
    >>> focus = np.zeros((10, 20), np.float32); focus[:, :10] = 1.0
    >>> result = gate_detections([Detection((0, 0, 10, 10)), Detection((5, 0, 20, 10))], focus)
    >>> [(g.focus.mean, g.kept) for g in result.kept + result.dropped]
    [(1.0, True), (0.3333333333333333, False)]
    """
    check_focus(focus)
    detections = as_detections(detections)
    check_gate(gate)
    if not 0.0 < real_number(threshold, "threshold") <= 1.0:
        raise ParameterError(f"threshold must be a number in (0, 1]; got {threshold!r}",
                             "threshold")
    if saliency is not None and getattr(saliency, "shape", None) != focus.shape:
        raise ParameterError(f"saliency must be a map of the focus map's shape {focus.shape} "
                             f"(from saliency_map) or None; got "
                             f"{getattr(saliency, 'shape', type(saliency).__name__)}", "saliency")
    if saliency is not None:
        check_unit_range(saliency, "saliency")
    size = focus.shape[1], focus.shape[0]
    mean_of = BoxMeans(focus)
    above_of = BoxMeans(focus >= threshold)
    if saliency is not None:
        saliency_of, weighted_of = BoxMeans(saliency), BoxMeans(saliency * focus)
    kept, dropped = [], []
    for index, detection in enumerate(detections):
        problem = box_problem(detection.xyxy, size)
        if problem:
            raise ParameterError(f"detection {index}: {problem}", "detections")
        box = clip_box(detection.xyxy, size)
        mean = mean_of(box)
        salient = score = None
        if saliency is not None:
            salient = saliency_of(box)
            score = weighted_of(box) / salient if salient > 1e-6 else mean
        scored = FocusScore(mean, above_of(box), salient, mean if score is None else score)
        verdict = scored.score >= gate
        (kept if verdict else dropped).append(Gated(detection, scored, verdict))
    return GateResult(kept, dropped)
