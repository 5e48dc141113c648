"""Focus-map scores of the defocus-blur-detection literature (see docs/evaluation.md).

Every function takes a map ``focus`` (float HxW in [0, 1], 1 = in focus) and a ground truth
``truth`` (bool HxW, True = in focus) of the same shape, and returns a float.
"""

from __future__ import annotations

import numpy as np

BETA_SQUARED = 0.3
FMAX_THRESHOLDS = np.linspace(0.0, 1.0, 101)


def mae(focus: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error between the map and the 0/1 truth, in [0, 1]."""
    return float(np.mean(np.abs(focus.astype(np.float64) - truth)))


def f_beta(predicted: np.ndarray, actual: np.ndarray, beta_squared: float = BETA_SQUARED) -> float:
    """F-beta of two boolean masks (True = positive); 0 when precision and recall are both 0."""
    true_positives = np.count_nonzero(predicted & actual)
    predicted_count = np.count_nonzero(predicted)
    actual_count = np.count_nonzero(actual)
    precision = true_positives / predicted_count if predicted_count else 0.0
    recall = true_positives / actual_count if actual_count else 0.0
    if precision == 0.0 and recall == 0.0:
        return 0.0
    return float((1 + beta_squared) * precision * recall / (beta_squared * precision + recall))


def f05(focus: np.ndarray, truth: np.ndarray) -> float:
    """F-beta (beta^2 = 0.3) at threshold 0.5 with the *blurred* region as the positive class."""
    return f_beta(focus < 0.5, ~truth)


def fmax(focus: np.ndarray, truth: np.ndarray) -> float:
    """Best F-beta (beta^2 = 0.3) over 101 thresholds in [0, 1], *in-focus* region positive."""
    return max(f_beta(focus >= t, truth) for t in FMAX_THRESHOLDS)


METRICS = {"mae": mae, "f05": f05, "fmax": fmax}


def score(focus: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """All metrics of one map: ``{"mae": ..., "f05": ..., "fmax": ...}``."""
    if focus.shape != truth.shape:
        raise ValueError(f"map shape {focus.shape} differs from ground truth {truth.shape}")
    return {name: metric(focus, truth) for name, metric in METRICS.items()}
