"""What a detection is, and what a detector must do (a protocol: dofkit depends on no model)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import ParameterError


@dataclass(frozen=True)
class Detection:
    """One detected object in pixel coordinates.

    Attributes
    ----------
    xyxy : (x1, y1, x2, y2), x2 and y2 exclusive, floats.
    score : the detector's confidence, or None.
    label : the class name, or None.
    record : the JSON object the detection was read from (its fields and shape are kept on
        output), or None for detections made by a detector.
    """

    xyxy: tuple[float, float, float, float]
    score: float | None = None
    label: str | None = None
    record: dict | None = field(default=None, compare=False)

    def __post_init__(self):
        """Numbers as plain finite floats (a model's numpy or torch scalars included), so
        that records stay JSON; ParameterError naming ``xyxy`` or ``score`` otherwise."""
        try:
            xyxy = tuple(float(v) for v in self.xyxy)
            score = None if self.score is None else float(self.score)
        except (TypeError, ValueError):
            raise ParameterError(f"a detection needs four numbers xyxy and a number or None "
                                 f"as score; got {self.xyxy!r}, {self.score!r}",
                                 "xyxy") from None
        if len(xyxy) != 4 or not all(math.isfinite(v) for v in xyxy):
            raise ParameterError(f"xyxy must be four finite numbers; got {self.xyxy!r}",
                                 "xyxy")
        if score is not None and not math.isfinite(score):
            raise ParameterError(f"score must be finite or None; got {self.score!r}", "score")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "score", score)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x, y, w, h), COCO style."""
        x1, y1, x2, y2 = self.xyxy
        return x1, y1, x2 - x1, y2 - y1

    def shifted(self, dx: float, dy: float) -> "Detection":
        """The same detection moved by (dx, dy) pixels (crop -> image coordinates)."""
        x1, y1, x2, y2 = self.xyxy
        return Detection((x1 + dx, y1 + dy, x2 + dx, y2 + dy), self.score, self.label,
                         self.record)

    def to_json(self) -> dict:
        """Its input record (copied), or ``{"bbox", "score", "label"}`` (COCO-results style)."""
        if self.record is not None:
            return dict(self.record)
        document: dict = {"bbox": [int(v) if float(v).is_integer() else round(v, 2)
                                   for v in self.bbox]}
        if self.score is not None:
            document["score"] = round(self.score, 4)
        if self.label is not None:
            document["label"] = self.label
        return document


@runtime_checkable
class Detector(Protocol):
    """Anything that finds objects in an image: plug in your own (a torch or ONNX model, a
    web service) by writing a class or function with this call.

    It takes float32 RGB (H, W, 3) in [0, 1] and returns :class:`Detection` objects in that
    image's pixel coordinates. An optional attribute ``min_size`` = (width, height), in
    pixels, tells ROI-first detection the smallest crop the detector can use.

    >>> class Everything:
    ...     def __call__(self, image):
    ...         height, width = image.shape[:2]
    ...         return [Detection((0.0, 0.0, float(width), float(height)), 1.0, "all")]
    >>> isinstance(Everything(), Detector)
    True
    """

    def __call__(self, image: np.ndarray) -> Sequence[Detection]:
        ...
