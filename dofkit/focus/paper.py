"""Eq. 3 of the paper: the Gaussian-masked length of the RGB difference to a smoothed copy.

Our reading of the values the paper leaves open (they reproduce the reference maps in
``dbd-real/maps-paper`` to 0.001 mean absolute difference):

- smoothed copy ``C_s``: Gaussian, sigma 1 px;
- mask: 15 x 15 Gaussian with OpenCV's default sigma for that size (2.6 px);
- scaling: divide by the image's own 99th percentile, clip to [0, 1].

The per-image scaling means a photo blurred all over still maps half white: the paper's filter
cannot tell "all sharp" from "all blurred". :mod:`dofkit.focus.analytic` fixes that.
"""

from __future__ import annotations

import cv2
import numpy as np

SMOOTH_SIGMA = 1.0
MASK_SIZE = 15
SCALE_PERCENTILE = 99.0


def paper_focus(image: np.ndarray) -> np.ndarray:
    """Eq. 3 map of float32 RGB (H, W, 3) in [0, 1] -> float32 (H, W) in [0, 1], 1 = in focus."""
    smoothed = cv2.GaussianBlur(image, (0, 0), SMOOTH_SIGMA)
    difference = np.sqrt(np.sum(np.square(image - smoothed), axis=2))
    weight = cv2.GaussianBlur(difference, (MASK_SIZE, MASK_SIZE), 0)
    scale = max(float(np.percentile(weight, SCALE_PERCENTILE)), 1e-6)
    return np.clip(weight / scale, 0.0, 1.0).astype(np.float32)
