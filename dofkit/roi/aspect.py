"""Fixed-aspect smart crop: the smallest window of a given aspect ratio holding a chosen
fraction of the in-focus mass, in the manner of the saliency-preserving crops of Chen et al.,
"Automatic Image Cropping using Visual Composition, Boundary Simplicity and Content
Preservation Models" (CVPR 2016), with the focus map as the content to preserve."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ParameterError
from .boxes import BoxMeans
from .regions import Roi, check_focus, in_focus_mask, real_number, resolve_threshold


#: The most elongated crop box: W:H from 1:MAX_ASPECT to MAX_ASPECT:1.
MAX_ASPECT = 100.0


def parse_aspect(text: str) -> tuple[float, float]:
    """``"W:H"`` (e.g. ``"16:9"``, ``"1:1"``) -> (W, H), as :func:`check_aspect` accepts."""
    if not isinstance(text, str):
        raise ParameterError(f"aspect must be text like 16:9; got {text!r}", "aspect")
    try:
        width, height = (float(part) for part in text.split(":"))
    except ValueError:
        raise ParameterError(f"aspect must look like W:H (e.g. 16:9); got {text!r}",
                             "aspect") from None
    return check_aspect((width, height))


def check_aspect(aspect) -> tuple[float, float]:
    """``aspect`` = (W, H) as floats; ParameterError unless both are positive and finite and
    W/H is between 1/:data:`MAX_ASPECT` and :data:`MAX_ASPECT`."""
    try:
        width, height = (float(value) for value in aspect)
    except (TypeError, ValueError):
        raise ParameterError(f"aspect must be a pair (W, H); got {aspect!r}", "aspect") from None
    shown = f"{width!r}:{height!r}"
    if not (0 < width < np.inf and 0 < height < np.inf):
        raise ParameterError(f"aspect W:H needs two positive numbers; got {shown}", "aspect")
    if width > MAX_ASPECT * height or height > MAX_ASPECT * width:
        raise ParameterError(f"aspect W:H must be from 1:{MAX_ASPECT:g} to {MAX_ASPECT:g}:1; "
                             f"got {shown}", "aspect")
    return width, height


def check_fraction(fraction: float) -> None:
    """ParameterError naming ``fraction`` unless it is a number in (0, 1]."""
    if not 0.0 < real_number(fraction, "fraction") <= 1.0:
        raise ParameterError(f"fraction must be in (0, 1]; got {fraction}", "fraction")


def aspect_crop(focus: np.ndarray, aspect: tuple[float, float], *, fraction: float = 0.9,
                threshold: float | str = "otsu", speck: float = 0.001) -> Roi | None:
    """The smallest window of ``aspect`` = (W, H) holding ``fraction`` of the focus mass.

    The mass is the focus (float (H, W) in [0, 1]) on the in-focus mask of
    :func:`~dofkit.roi.regions.in_focus_mask` (``threshold``, and pieces under ``speck`` of the
    image dropped). Window sums come from an integral image, and
    the smallest size is found by bisection (the best sum never shrinks as the window grows),
    so the cost is O(H W log H). Among equally good positions the one centred nearest the
    mass's centroid wins. Returns None when nothing is in focus.

    >>> import numpy as np
    >>> focus = np.zeros((50, 100), np.float32); focus[20:30, 45:55] = 1.0
    >>> aspect_crop(focus, (2, 1), fraction=1.0).bbox
    (40, 20, 20, 10)
    """
    check_focus(focus)
    across, down = check_aspect(aspect)
    check_fraction(fraction)
    if not 0.0 <= real_number(speck, "speck") < 1.0:
        raise ParameterError(f"speck must be a fraction of the image in [0, 1); got {speck}",
                             "speck")
    mask = in_focus_mask(focus, resolve_threshold(focus, threshold), speck)
    weights = np.where(mask, focus, 0.0).astype(np.float64)
    total = weights.sum()
    if total <= 0:
        return None
    sums = cv2.integral(weights)
    height, width = focus.shape
    ratio = across / down

    def size(h: int) -> tuple[int, int]:
        return min(width, max(1, round(h * ratio))), h

    def window_sums(h: int) -> np.ndarray:
        w, h = size(h)
        return sums[h:, w:] - sums[:-h, w:] - sums[h:, :-w] + sums[:-h, :-w]

    need = fraction * total * (1 - 1e-9)
    low, high = 1, max(1, min(height, int(width / ratio)))
    while low < high:
        middle = (low + high) // 2
        if window_sums(middle).max() >= need:
            high = middle
        else:
            low = middle + 1
    w, h = size(low)
    candidates = window_sums(low)
    ys, xs = np.nonzero(candidates >= candidates.max() * (1 - 1e-9))
    rows, cols = np.indices(weights.shape)
    cy, cx = (rows * weights).sum() / total, (cols * weights).sum() / total
    best = np.argmin((ys + (h - 1) / 2 - cy) ** 2 + (xs + (w - 1) / 2 - cx) ** 2)
    x, y = int(xs[best]), int(ys[best])
    box = (x, y, x + w, y + h)
    return Roi(x, y, w, h, BoxMeans(focus)(box), int(mask[y:y + h, x:x + w].sum()),
               float(candidates[y, x]))
