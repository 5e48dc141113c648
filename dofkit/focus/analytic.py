"""The refined analytic focus map: calibrated, contrast-invariant, edge-aware.

Steps (all numpy/OpenCV):

1. Work on the luminance at a fixed working size (long side :data:`WORK_SIDE` px), so blur is
   judged on the same scale for any resolution, and a 1080p map stays cheap.
2. Sharpness where there is structure: the ratio of gradient magnitude before and after a known
   re-blur (sigma :data:`REBLUR_SIGMA`) gives the edge's own blur sigma (Zhuo & Sim 2011):
   ``sigma_edge = s / sqrt(R^2 - 1)``. It does not depend on contrast or brightness.
3. The sparse estimate is turned into a focus value with a fixed logistic in sigma (in pixels of
   the working size), so the scale is absolute: a photo blurred all over maps near 0 and one
   sharp all over near 1, unlike per-image percentile scaling.
4. Confidence-weighted propagation (normalised Gaussian convolution) fills flat regions from
   the structure around them, then an edge-aware guided filter driven by the photo snaps the
   map to object boundaries, and a guided upsampling returns it to full size.
"""

from __future__ import annotations

import cv2
import numpy as np

WORK_SIDE = 640
REBLUR_SIGMA = 1.0
SHARP_SIGMA = 1.3       # edge blur sigma (working px) at which focus = 0.5
SIGMA_SLOPE = 0.25      # logistic width in px
EDGE_FLOOR = 0.02       # gradient magnitude below which a pixel carries no evidence
SPREAD_FRACTION = 0.04  # propagation sigma as a fraction of the working long side
GUIDE_RADIUS_FRACTION = 0.02
GUIDE_EPS = 1e-3


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of float RGB (H, W, 3) -> float32 (H, W)."""
    return (image @ np.array([0.2126, 0.7152, 0.0722], np.float32)).astype(np.float32)


def working_copy(image: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """``image`` resized (area) so its long side is ``side``; returned as is when smaller."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def gradient_magnitude(gray: np.ndarray) -> np.ndarray:
    """Scharr gradient magnitude of (H, W) float32, normalised to unit step response."""
    gx = cv2.Scharr(gray, cv2.CV_32F, 1, 0, scale=1 / 32)
    gy = cv2.Scharr(gray, cv2.CV_32F, 0, 1, scale=1 / 32)
    return cv2.magnitude(gx, gy)


def edge_sharpness(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel focus evidence and its confidence, both float32 (H, W) in [0, 1] / [0, inf)."""
    before = gradient_magnitude(gray)
    after = gradient_magnitude(cv2.GaussianBlur(gray, (0, 0), REBLUR_SIGMA))
    ratio = before / np.maximum(after, 1e-6)
    sigma_edge = REBLUR_SIGMA / np.sqrt(np.maximum(ratio * ratio - 1.0, 1e-6))
    focus = 1.0 / (1.0 + np.exp((sigma_edge - SHARP_SIGMA) / SIGMA_SLOPE))
    # Evidence only at edge maxima: where the gradient is a local peak and above the noise floor.
    peak = before >= cv2.dilate(before, np.ones((3, 3), np.uint8))
    confidence = np.where(peak & (before > EDGE_FLOOR), before, 0.0).astype(np.float32)
    return focus.astype(np.float32), confidence


def propagate(values: np.ndarray, confidence: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: confidence-weighted Gaussian average of ``values``."""
    numerator = cv2.GaussianBlur(values * confidence, (0, 0), sigma)
    denominator = cv2.GaussianBlur(confidence, (0, 0), sigma)
    return numerator / np.maximum(denominator, 1e-6)


def analytic_focus(image: np.ndarray) -> np.ndarray:
    """Refined analytic map of float32 RGB (H, W, 3) in [0, 1] -> float32 (H, W) in [0, 1]."""
    small = working_copy(image)
    gray = luminance(small)
    focus, confidence = edge_sharpness(gray)
    side = max(gray.shape)
    dense = propagate(focus, confidence, SPREAD_FRACTION * side)
    radius = max(1, round(GUIDE_RADIUS_FRACTION * side))
    dense = cv2.ximgproc.guidedFilter(small, dense, radius, GUIDE_EPS)
    if small.shape != image.shape:
        dense = cv2.resize(dense, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(dense, 0.0, 1.0).astype(np.float32)
