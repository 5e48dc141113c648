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
    size follow the image size. Labels are kept inside the image (moved left, or below the
    box's top, as needed) and moved down past the labels already placed that they would
    cover; they are drawn over every box outline."""
    canvas = to_uint(image, 8).copy()
    height, width = image.shape[:2]
    thickness = max(1, round(max(height, width) / 400))
    font = 0.4 * thickness
    for (x1, y1, x2, y2), colour in zip(boxes, colours):
        rgb = tuple(int(255 * c) for c in colour)
        cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), rgb, thickness, cv2.LINE_AA)
    placed: list[tuple[int, int, int, int]] = []
    for (x1, y1, _, _), label, colour in zip(boxes, labels, colours):
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font, thickness)
        left, top = label_place((x1, y1), (tw, th + base), (width, height), placed)
        placed.append((left, top, left + tw, top + th + base))
        rgb = tuple(int(255 * c) for c in colour)
        cv2.rectangle(canvas, (left, top), (left + tw, top + th + base), rgb, cv2.FILLED)
        cv2.putText(canvas, label, (left, top + th), cv2.FONT_HERSHEY_SIMPLEX, font,
                    (0, 0, 0), thickness, cv2.LINE_AA)
    return canvas.astype(np.float32) / 255.0


def label_place(corner: tuple[int, int], size: tuple[int, int], image: tuple[int, int],
                placed: Sequence[tuple[int, int, int, int]]) -> tuple[int, int]:
    """Top-left (x, y) of a label of ``size`` = (w, h) for a box whose top-left is ``corner``:
    just above the box (inside its top when there is no room above), moved left to stay inside
    an image of ``image`` = (width, height), then down below every earlier label of ``placed``
    (x1, y1, x2, y2) it would overlap, as long as it stays inside the image.

    >>> label_place((90, 30), (20, 10), (100, 100), [])
    (80, 20)
    >>> label_place((85, 30), (20, 10), (100, 100), [(75, 20, 95, 30)])
    (80, 30)
    """
    (x, y), (w, h), (width, height) = corner, size, image
    left = max(0, min(x, width - w))
    top = y - h if y >= h else max(0, min(y, height - h))
    moved = True
    while moved:
        moved = False
        for a, b, c, d in placed:
            if left < c and a < left + w and top < d and b < top + h and d + h <= height:
                top, moved = d, True
    return left, top
