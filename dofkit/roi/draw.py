"""Boxes drawn on a photo for people (overlays of `dofkit roi` and `dofkit detect`)."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from ..io import to_uint

GREEN = (0.1, 0.9, 0.2)
RED = (0.95, 0.15, 0.1)
YELLOW = (1.0, 0.85, 0.0)


def draw_boxes(image: np.ndarray, boxes: Sequence[tuple[int, int, int, int]],
               labels: Sequence[str], colours: Sequence[tuple[float, float, float]]
               ) -> np.ndarray:
    """A copy of float RGB (H, W, 3) in [0, 1] with each (x1, y1, x2, y2) box outlined in its
    RGB colour (in [0, 1]) and its label written at its top-left corner; line width and text
    size follow the image size."""
    canvas = to_uint(image, 8).copy()
    thickness = max(1, round(max(image.shape[:2]) / 400))
    font = 0.4 * thickness
    for (x1, y1, x2, y2), label, colour in zip(boxes, labels, colours):
        rgb = tuple(int(255 * c) for c in colour)
        cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), rgb, thickness, cv2.LINE_AA)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font, thickness)
        top = y1 if y1 >= th + base else y1 + th + base
        cv2.rectangle(canvas, (x1, top - th - base), (x1 + tw, top), rgb, cv2.FILLED)
        cv2.putText(canvas, label, (x1, top - base), cv2.FONT_HERSHEY_SIMPLEX, font,
                    (0, 0, 0), thickness, cv2.LINE_AA)
    return canvas.astype(np.float32) / 255.0
