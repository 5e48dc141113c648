"""Filling the network's answer in from the edges, along the photo's own regions.

Where a photo has edges, the network's logit rests on evidence; inside a textureless region
(the skin of a face, a white petal, a wall) it is a guess from context, and a guess that can
differ from the region's own outline. Here every logit is replaced by the confidence-weighted
average of the logits around it, averaged along the photo's colour regions and not across their
borders: a normalised convolution (each pixel weighted by its edge evidence, plus a small weight
for every pixel) with the domain transform's edge-aware filter (Gastal & Oliveira 2011, OpenCV's
``ximgproc.dtFilter``). A flat region thus takes the answer of the edges that bound it and
share its colour, the way matting propagates sparse blur estimates (Zhuo & Sim 2011).

The constants were chosen on the training recipe's validation composites and calibration
scenes (held-out photos of every source, seed 0) by the worst source's MAE, together: see the
model card, pretrained/README.md.
"""

from __future__ import annotations

import cv2
import numpy as np

from .analytic import filter_side

#: Spatial sigma of the averaging, as a fraction of the working image's
#: :func:`~dofkit.focus.analytic.filter_side` (58 px at the 640-px working size).
SPATIAL_FRACTION = 0.09
#: Colour sigma of the averaging, in 8-bit RGB units: regions further apart in colour than
#: this do not exchange answers.
COLOR_SIGMA = 60.0
#: Spread in px of the edge evidence (it sits on single-pixel gradient peaks).
EVIDENCE_SPREAD = 1.0
#: Edge strength (channel 1 of :func:`~.analytic.analytic_evidence`, in [0, 1)) at which a
#: pixel counts fully.
EVIDENCE_FULL = 0.5
#: Weight of every pixel's own answer, evidence or not (keeps an answer where no edge is near).
BASELINE = 0.1
#: Logits are clipped to +-this before averaging (sigmoid(12) = 1 - 6e-6), so that a few
#: extreme values cannot outvote a region.
LOGIT_CLIP = 12.0


def fill_from_edges(work: np.ndarray, logits: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Edge-aware, evidence-weighted average of ``logits``.

    work : the working-scale photo, float32 RGB (h, w, 3) in [0, 1] (the guide).
    logits : focus logits (h, w), float32.
    strength : edge evidence (h, w) in [0, 1), channel 1 of the analytic evidence.
    Returns float32 (h, w) logits in [-LOGIT_CLIP, LOGIT_CLIP].
    """
    weight = np.clip(cv2.GaussianBlur(strength, (0, 0), EVIDENCE_SPREAD) / EVIDENCE_FULL,
                     0.0, 1.0) + BASELINE
    guide = cv2.convertScaleAbs(work, alpha=255.0)
    spread = dict(sigmaSpatial=SPATIAL_FRACTION * filter_side(work.shape), sigmaColor=COLOR_SIGMA,
                  mode=cv2.ximgproc.DTF_NC, numIters=3)
    clipped = np.clip(logits, -LOGIT_CLIP, LOGIT_CLIP)
    # numerator and weights in one call: the domain transform of the guide is made once
    stacked = cv2.merge([clipped * weight, weight, np.zeros_like(weight)]).astype(np.float32)
    total, norm, _ = cv2.split(cv2.ximgproc.dtFilter(guide, stacked, **spread))
    return np.clip(total / np.maximum(norm, 1e-6), -LOGIT_CLIP, LOGIT_CLIP).astype(np.float32)
