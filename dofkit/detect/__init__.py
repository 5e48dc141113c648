"""Detector front-end: gate detections by the focus inside their boxes, and run detectors
only on the in-focus regions.

>>> import numpy as np, dofkit
>>> from dofkit.detect import Detection
>>> focus = np.zeros((10, 20), np.float32); focus[:, :10] = 1.0
>>> result = dofkit.gate_detections([Detection((0, 0, 10, 10), 0.9, "cat")], focus)
>>> result.kept[0].to_json()["focus"]
{'mean': 1.0, 'above': 1.0, 'score': 1.0}
"""

from .base import Detection, Detector
from .builtin import CascadeDetector, HogPeopleDetector, find_cascade, make_detector
from .gate import FocusScore, Gated, GateResult, gate_detections, saliency_map
from .on_rois import detect_on_rois
from .records import DetectionFile, parse_detections

__all__ = ["Detection", "Detector", "HogPeopleDetector", "CascadeDetector", "find_cascade",
           "make_detector", "gate_detections", "saliency_map", "FocusScore", "Gated",
           "GateResult", "detect_on_rois", "parse_detections", "DetectionFile"]
