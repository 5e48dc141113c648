"""The refined analytic focus map: calibrated, contrast-invariant, edge-aware.

Steps (all numpy/OpenCV):

1. Work at a fixed working size (long side :data:`WORK_SIDE` px; a panorama keeps a short side
   of half that), so blur is judged on the same scale for any resolution and a 1080p map stays
   cheap.
2. Blur where there is structure: at gradient peaks, the ratio R of the gradient magnitude
   before and after a known re-blur (sigma s = :data:`REBLUR_SIGMA`) gives the edge's own blur
   sigma, ``sigma_edge = s / sqrt(R^2 - 1)`` (Zhuo & Sim 2011). The gradient is the largest of
   the three colour channels', so colour-only edges count. R does not depend on contrast or
   brightness.
3. Confidence-weighted propagation (normalised Gaussian convolution) of ``log sigma_edge``
   fills flat regions from the structure around them; a guided filter driven by the photo snaps
   the result to object boundaries.
4. A fixed logistic in ``log sigma`` turns blur into focus: the scale is absolute, so a photo
   blurred all over maps near 0 and one sharp all over near 1 (per-image percentile scaling,
   as in eq. 3, cannot do that). The map is resized back to the input size.
"""

from __future__ import annotations

import cv2
import numpy as np

WORK_SIDE = 640          # px, long side of the working copy
MAX_WORK_ASPECT = 2.0    # a longer working copy keeps a short side of WORK_SIDE / this
REBLUR_SIGMA = 1.0       # px, known re-blur
EDGE_FLOOR = 0.03        # gradient magnitude (per unit intensity) below which there is no evidence
SHARP_SIGMA = 1.1        # px, edge blur sigma at which focus = 0.5
LOG_SLOPE = 0.1         # logistic width in natural-log units of sigma
SPREAD_FRACTION = 0.008  # propagation sigma, as a fraction of the working long side
GUIDE_RADIUS_FRACTION = 0.02
GUIDE_EPS = 1e-2
MAX_LOG_SIGMA = float(np.log(8.0))  # blur assumed where no evidence exists at any scale
EVIDENCE_SCALE = 1e-4              # confidence density at which evidence counts half


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of float RGB (H, W, 3) -> float32 (H, W)."""
    return (image @ np.array([0.2126, 0.7152, 0.0722], np.float32)).astype(np.float32)


def working_copy(image: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """``image`` resized (area) so its long side is ``side``, but its short side no shorter
    than ``side / MAX_WORK_ASPECT`` (a panorama's blur would shrink below what can be measured:
    4000x300 was worked on at 640x48, and a defocused background read as sharp); returned as
    is when that is no smaller."""
    height, width = image.shape[:2]
    scale = max(side / max(height, width), side / MAX_WORK_ASPECT / min(height, width))
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def filter_side(shape: tuple[int, ...]) -> int:
    """The length (px) the filter sizes of a working image of ``shape`` (H, W, ...) are
    fractions of: its long side, at most ``MAX_WORK_ASPECT`` times its short side (a
    panorama's filters are those of a 2:1 photo of its height, not as wide as its length)."""
    height, width = shape[:2]
    return min(max(height, width), round(MAX_WORK_ASPECT * min(height, width)))


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """Scharr gradient magnitude per unit step, (H, W) or the channel maximum of (H, W, C)."""
    gx = cv2.Scharr(image, cv2.CV_32F, 1, 0, scale=1 / 32)
    gy = cv2.Scharr(image, cv2.CV_32F, 0, 1, scale=1 / 32)
    # numpy, not cv2.magnitude: under CPU contention OpenCV's result varied in the last bit,
    # which flips near-ties in the edge-peak test and so changed maps from run to run
    magnitude = np.sqrt(gx * gx + gy * gy)
    return magnitude.max(axis=2) if magnitude.ndim == 3 else magnitude


def edge_blur(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log edge blur sigma (px) and its confidence (gradient at edge peaks, else 0), (H, W)."""
    before = gradient_magnitude(image)
    after = gradient_magnitude(cv2.GaussianBlur(image, (0, 0), REBLUR_SIGMA))
    ratio = before / np.maximum(after, 1e-6)
    log_sigma = np.log(REBLUR_SIGMA) - 0.5 * np.log(np.maximum(ratio * ratio - 1.0, 1e-6))
    log_sigma = np.minimum(log_sigma, MAX_LOG_SIGMA)
    peak = before >= cv2.dilate(before, np.ones((3, 3), np.uint8))
    confidence = np.where(peak & (before > EDGE_FLOOR), before, 0.0)
    return log_sigma.astype(np.float32), confidence.astype(np.float32)


def propagate(values: np.ndarray, confidence: np.ndarray, sigma: float,
              default: float) -> np.ndarray:
    """Normalised convolution: the confidence-weighted Gaussian average of ``values``; where
    there is little evidence near a pixel it tends to ``default``.

    Wider fills (coarse-to-fine) were measured and made maps worse: regions without evidence
    are mostly blurred *because* blur removes edges, so ``default`` = blurred is the safer guess.
    """
    numerator = cv2.GaussianBlur(values * confidence, (0, 0), sigma)
    denominator = cv2.GaussianBlur(confidence, (0, 0), sigma)
    weight = denominator / (denominator + EVIDENCE_SCALE)
    mean = numerator / np.maximum(denominator, 1e-12)
    return (weight * mean + (1.0 - weight) * default).astype(np.float32)


def analytic_evidence(small: np.ndarray, side: int | None = None) -> np.ndarray:
    """The analytic map's logit and its local edge evidence, for a working-scale photo
    (h, w, 3) -> float32 (h, w, 3): channel 0 the focus logit (its sigmoid is the map),
    channel 1 the edge strength ``c`` in [0, 1) at gradient peaks (else 0), channel 2
    ``c * (log sigma_edge - log SHARP_SIGMA)`` (negative = sharper than the threshold).

    ``side`` is the :func:`filter_side` of the whole working image that ``small`` belongs to
    (it sets the propagation and guided-filter radii); None means ``small`` is the whole
    image, so a crop given its ``side`` sees the same filter sizes as the whole.
    """
    side = side or filter_side(small.shape)
    log_sigma, confidence = edge_blur(small)
    dense = propagate(log_sigma, confidence, SPREAD_FRACTION * side, default=MAX_LOG_SIGMA)
    radius = max(1, round(GUIDE_RADIUS_FRACTION * side))
    dense = cv2.ximgproc.guidedFilter(small, dense, radius, GUIDE_EPS)
    strength = confidence / (confidence + EDGE_FLOOR)
    return np.dstack([(np.log(SHARP_SIGMA) - dense) / LOG_SLOPE, strength,
                      strength * (log_sigma - np.log(SHARP_SIGMA))]).astype(np.float32)


def sigmoid(logit: np.ndarray) -> np.ndarray:
    """Logistic of float logits (clipped to +-50), float32, same shape."""
    return (1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))).astype(np.float32)


def analytic_focus(image: np.ndarray) -> np.ndarray:
    """Refined analytic map of float32 RGB (H, W, 3) in [0, 1] -> float32 (H, W) in [0, 1]."""
    small = working_copy(image)
    focus = sigmoid(analytic_evidence(small)[:, :, 0])
    if small.shape != image.shape:
        focus = cv2.resize(focus, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(focus, 0.0, 1.0).astype(np.float32)
