"""Focus-first detection: run a detector only on the in-focus regions, not the whole frame."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..roi import Roi, nms, pad_box
from .base import Detection, Detector
from .gate import as_detections


def crop_box(roi: Roi, pad: float, min_size: tuple[int, int], size: tuple[int, int]
             ) -> tuple[int, int, int, int]:
    """The crop fed to the detector for ``roi``: padded by ``pad`` (a fraction of its size),
    grown about its centre to at least ``min_size`` = (w, h) where the image allows, and kept
    inside the image of ``size`` = (width, height)."""
    x1, y1, x2, y2 = pad_box(roi.xyxy, pad, size)
    spans = []
    for low, high, need, limit in ((x1, x2, min_size[0], size[0]), (y1, y2, min_size[1], size[1])):
        need = min(max(need, high - low), limit)
        low = min(max(0, (low + high - need) // 2), limit - need)
        spans.append((low, low + need))
    (x1, x2), (y1, y2) = spans
    return x1, y1, x2, y2


#: When the crops add up to this share of the frame or more, the detector runs once on the
#: whole frame instead: the crops would save it little time, and a sliding-window detector
#: samples a crop on another grid than the frame (its pyramid levels are rounded from the
#: crop's size and start at the crop's corner), which loses or adds borderline objects.
FULL_FRAME_SHARE = 0.5


def detect_on_rois(detector: Detector, image: np.ndarray, rois: Sequence[Roi], *,
                   pad: float = 0.15, iou: float = 0.5) -> list[Detection]:
    """Run ``detector`` on the crop of every ROI (see :func:`crop_box`; the detector's
    optional ``min_size`` is honoured), move its boxes back to image coordinates and merge
    duplicates from overlapping crops by non-maximum suppression at overlap ``iou``.

    When the crops cover :data:`FULL_FRAME_SHARE` of the frame or more (their areas summed),
    the detector runs once on the whole frame and the detections whose centre lies in a crop
    are kept: the same objects a full-frame run finds there.

    ``image`` is float32 RGB (H, W, 3) in [0, 1]; returns detections best first (a missing
    score counts as 1).
    """
    size = image.shape[1], image.shape[0]
    min_size = tuple(getattr(detector, "min_size", (1, 1)))
    crops = [crop_box(roi, pad, min_size, size) for roi in rois]
    covered = sum((x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in crops)
    if covered >= FULL_FRAME_SHARE * size[0] * size[1]:
        found = [d for d in as_detections(detector(image))
                 if any(_holds(crop, d) for crop in crops)]
    else:
        found = []
        for x1, y1, x2, y2 in crops:
            crop = np.ascontiguousarray(image[y1:y2, x1:x2])
            found += [d.shifted(x1, y1) for d in as_detections(detector(crop))]
    scores = [1.0 if d.score is None else d.score for d in found]
    return [found[i] for i in nms([d.xyxy for d in found], scores, iou)]


def _holds(crop: tuple[int, int, int, int], detection: Detection) -> bool:
    """Whether the centre of ``detection``'s box lies in ``crop`` (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = detection.xyxy
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return crop[0] <= cx < crop[2] and crop[1] <= cy < crop[3]
