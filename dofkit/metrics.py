"""Focus-map scores of the defocus-blur-detection literature (see docs/evaluation.md).

Every function takes a map ``focus`` (float HxW in [0, 1], 1 = in focus) and a ground truth
``truth`` (bool HxW, True = in focus) of the same shape, and returns a float.
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError

BETA_SQUARED = 0.3
FMAX_THRESHOLDS = np.linspace(0.0, 1.0, 101)


def check_pair(focus: np.ndarray, truth: np.ndarray) -> None:
    """ParameterError naming the argument at fault unless ``focus`` is a non-empty (H, W) map
    of finite numbers in [0, 1] and ``truth`` a bool mask of the same shape."""
    from .roi.regions import check_focus

    check_focus(focus)
    if not isinstance(truth, np.ndarray) or truth.dtype != bool:
        raise ParameterError(f"truth must be a bool (H, W) mask (True = in focus, e.g. "
                             f"mask >= 128); got {getattr(truth, 'dtype', type(truth).__name__)}",
                             "truth")
    if focus.shape != truth.shape:
        raise ParameterError(f"map shape {focus.shape} differs from ground truth {truth.shape}",
                             "truth")


def mae(focus: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error between the map and the 0/1 truth, in [0, 1]."""
    check_pair(focus, truth)
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
    check_pair(focus, truth)
    return f_beta(focus < 0.5, ~truth)


def fmax(focus: np.ndarray, truth: np.ndarray) -> float:
    """Best F-beta (beta^2 = 0.3) over 101 thresholds in [0, 1], *in-focus* region positive."""
    check_pair(focus, truth)
    return max(f_beta(focus >= t, truth) for t in FMAX_THRESHOLDS)


METRICS = {"mae": mae, "f05": f05, "fmax": fmax}


def score(focus: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """All metrics of one map: ``{"mae": ..., "f05": ..., "fmax": ...}``."""
    check_pair(focus, truth)
    return {name: metric(focus, truth) for name, metric in METRICS.items()}
