"""Pictures of focus maps for people: the paper's rainbow view and an overlay on the photo."""

from __future__ import annotations

import cv2
import numpy as np

from .io import to_uint


def rainbow(focus: np.ndarray) -> np.ndarray:
    """Map float (H, W) in [0, 1] -> float32 RGB (H, W, 3): red = in focus, blue = defocused
    (the paper's Fig. 9, OpenCV's JET colour map)."""
    bgr = cv2.applyColorMap(to_uint(focus, 8), cv2.COLORMAP_JET)
    return bgr[:, :, ::-1].astype(np.float32) / 255.0


def overlay(image: np.ndarray, focus: np.ndarray, opacity: float = 0.45) -> np.ndarray:
    """The photo (H, W, 3) with the rainbow view of ``focus`` blended over it at ``opacity``."""
    return ((1.0 - opacity) * image + opacity * rainbow(focus)).astype(np.float32)
