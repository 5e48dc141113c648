"""Regions of interest from a focus map: boxes around the in-focus regions and a fixed-aspect
smart crop.

>>> import numpy as np, dofkit
>>> focus = np.zeros((40, 60), np.float32); focus[10:20, 5:25] = 1.0
>>> roi, = dofkit.find_rois(focus, threshold="otsu")
>>> roi.bbox, roi.xyxy, roi.score, roi.area
((5, 10, 20, 10), (5, 10, 25, 20), 1.0, 200)
"""

from .aspect import aspect_crop, parse_aspect
from .boxes import box_iou, clip_box, nms, pad_box
from .regions import Roi, find_rois, in_focus_mask, otsu_threshold

__all__ = ["Roi", "find_rois", "aspect_crop", "parse_aspect", "in_focus_mask", "otsu_threshold",
           "box_iou", "clip_box", "pad_box", "nms"]
