"""Axis-aligned boxes in pixel coordinates: padding, clipping, overlap, non-maximum suppression.

A box is ``(x1, y1, x2, y2)`` with x2 and y2 exclusive, so its width is ``x2 - x1``; an image
size is ``(width, height)``.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from ..errors import ParameterError

Box = tuple[float, float, float, float]


def pad_box(box: Box, pad: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Grow ``box`` by ``pad`` times its width (height) on the left and right (top and bottom),
    snap it outwards to whole pixels and clip it to the image of ``size`` = (width, height)."""
    x1, y1, x2, y2 = box
    dx, dy = pad * (x2 - x1), pad * (y2 - y1)
    return clip_box((x1 - dx, y1 - dy, x2 + dx, y2 + dy), size)


def clip_box(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """``box`` snapped outwards to whole pixels and clipped to ``size`` = (width, height)."""
    width, height = size
    x1, y1, x2, y2 = box
    if not all(np.isfinite(v) for v in box):
        raise ParameterError(f"box must hold 4 finite numbers; got {tuple(box)!r}", "box")
    return (max(0, int(np.floor(x1))), max(0, int(np.floor(y1))),
            min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2))))


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, in [0, 1] (0 when either is empty)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms(boxes: Sequence[Box], scores: Sequence[float], iou: float = 0.5) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first: a box
    is dropped when it overlaps a better kept one by more than ``iou``."""
    if len(scores) != len(boxes):
        raise ParameterError(f"scores must give one score per box; got {len(scores)} for "
                             f"{len(boxes)} boxes", "scores")
    kept: list[int] = []
    for index in sorted(range(len(boxes)), key=lambda i: -scores[i]):
        if all(box_iou(boxes[index], boxes[other]) <= iou for other in kept):
            kept.append(index)
    return kept


class BoxMeans:
    """Mean of a map (H, W) over any box in O(1), from its integral image."""

    def __init__(self, values: np.ndarray):
        self.integral = cv2.integral(np.ascontiguousarray(values, np.float64))

    def __call__(self, box: tuple[int, int, int, int]) -> float:
        """Mean over the whole-pixel box (x1, y1, x2, y2); 0 for an empty box."""
        x1, y1, x2, y2 = box
        if x2 <= x1 or y2 <= y1:
            return 0.0
        s = self.integral
        total = s[y2, x2] - s[y1, x2] - s[y2, x1] + s[y1, x1]
        return float(total / ((x2 - x1) * (y2 - y1)))
