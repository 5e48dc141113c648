"""In-focus regions of a focus map: threshold (a number or Otsu), speck removal, connected
components merged when close, boxes sorted by focus mass."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import ParameterError
from ..io import check_unit_range, to_uint
from .boxes import BoxMeans, pad_box

#: Otsu's threshold is kept inside this range, so that a map sharp all over (or blurred all
#: over) gives the full frame (or nothing) instead of an arbitrary split of its noise.
OTSU_RANGE = (0.25, 0.75)
#: In-focus pieces smaller than this fraction of ``min_area`` are specks.
SPECK = 0.1
#: Largest padding accepted, as a fraction of a box's size on each side (a box grown by more
#: is clipped to the image anyway).
MAX_PAD = 100.0


@dataclass(frozen=True)
class Roi:
    """A region of interest in pixels.

    Attributes
    ----------
    x, y, w, h : the box, COCO style (top-left corner, width, height), inside the image.
    score : mean focus inside the box, in [0, 1].
    area : pixels of the in-focus region the box was made from.
    mass : focus summed over that region (the sort key, in focus-weighted pixels).
    """

    x: int
    y: int
    w: int
    h: int
    score: float
    area: int
    mass: float

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """(x, y, w, h)."""
        return self.x, self.y, self.w, self.h

    @property
    def xyxy(self) -> tuple[int, int, int, int]:
        """(x1, y1, x2, y2), x2 and y2 exclusive."""
        return self.x, self.y, self.x + self.w, self.y + self.h

    def crop(self, array: np.ndarray) -> np.ndarray:
        """The part of an (H, W, ...) array inside the box (a view); ParameterError naming
        ``array`` if the box does not fit in it (a region of another image)."""
        shape = getattr(array, "shape", ())
        if len(shape) < 2 or shape[0] < self.y + self.h or shape[1] < self.x + self.w:
            raise ParameterError(f"array of shape {shape} does not hold the box "
                                 f"{list(self.bbox)} ([x y w h] px)", "array")
        return array[self.y:self.y + self.h, self.x:self.x + self.w]

    def to_json(self) -> dict:
        """``{"bbox", "xyxy", "score", "area"}`` as printed by ``dofkit roi --json``."""
        return {"bbox": list(self.bbox), "xyxy": list(self.xyxy),
                "score": round(self.score, 4), "area": self.area}


def check_focus(focus: np.ndarray) -> None:
    """Raise ParameterError (naming ``focus``) unless it is a non-empty (H, W) array of real
    numbers (any float, int or bool dtype, either byte order), finite and in [0, 1] (1e-3 of
    slack)."""
    if not isinstance(focus, np.ndarray) or focus.ndim != 2 or focus.size == 0:
        raise ParameterError(f"focus must be a non-empty (H, W) map; got shape "
                             f"{getattr(focus, 'shape', None)}", "focus")
    if focus.dtype.kind not in "biuf":
        raise ParameterError(f"focus must be a map of numbers in [0, 1]; got {focus.dtype}",
                             "focus")
    check_unit_range(focus, "focus", " (divide 8-bit maps by 255)")


def real_number(value, name: str) -> float:
    """``value`` as a float; ParameterError naming ``name`` unless it is a real number (not a
    bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number; got {value!r}", name)
    return float(value)


def otsu_threshold(focus: np.ndarray) -> float:
    """Otsu's threshold of a map in [0, 1] (256 levels), clipped to :data:`OTSU_RANGE`."""
    check_focus(focus)
    return _otsu(focus)


def _otsu(focus: np.ndarray) -> float:
    """:func:`otsu_threshold` of a map already checked."""
    levels = to_uint(focus, 8)
    if levels.min() == levels.max():
        return 0.5
    split, _ = cv2.threshold(levels, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(np.clip((split + 0.5) / 255.0, *OTSU_RANGE))


def parse_threshold(text: str) -> float | str:
    """A threshold given as text (a command-line option, a query parameter): the number it
    writes, else the text itself; :func:`check_threshold` judges either."""
    try:
        return float(text)
    except ValueError:
        return text


def check_threshold(threshold: float | str) -> float | None:
    """The level in (0, 1] of a numeric ``threshold``, None for ``"otsu"`` (any case);
    ParameterError naming ``threshold`` otherwise."""
    if isinstance(threshold, str):
        if threshold.lower() != "otsu":
            raise ParameterError(f"threshold must be a number in (0, 1] or 'otsu'; "
                                 f"got {threshold!r}", "threshold")
        return None
    level = real_number(threshold, "threshold")
    if not 0.0 < level <= 1.0:
        raise ParameterError(f"threshold must be in (0, 1]; got {threshold}", "threshold")
    return level


def resolve_threshold(focus: np.ndarray, threshold: float | str) -> float:
    """A threshold in (0, 1] from a number or ``"otsu"`` (Otsu's of ``focus``, a map its
    caller has checked with :func:`check_focus`: one scan of the map per call)."""
    level = check_threshold(threshold)
    return _otsu(focus) if level is None else level


def in_focus_mask(focus: np.ndarray, threshold: float, speck: float = 0.001) -> np.ndarray:
    """Bool (H, W): ``focus >= threshold``, without the specks (8-connected pieces smaller than
    ``speck`` times the image area)."""
    mask = (focus >= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, 8)
    keep = stats[:, cv2.CC_STAT_AREA] >= speck * focus.size
    keep[0] = False
    return keep[labels]


def merge_boxes(groups: list[list], gap: float) -> list[list]:
    """Merge ``[x1, y1, x2, y2, area, mass]`` groups whose boxes are less than ``gap`` pixels
    apart (in both directions) into their union, summing area and mass, until none are."""
    merged = True
    while merged:
        merged, out = False, []
        for group in groups:
            for other in out:
                if (group[0] - gap <= other[2] and other[0] - gap <= group[2]
                        and group[1] - gap <= other[3] and other[1] - gap <= group[3]):
                    other[:6] = (min(other[0], group[0]), min(other[1], group[1]),
                                 max(other[2], group[2]), max(other[3], group[3]),
                                 other[4] + group[4], other[5] + group[5])
                    merged = True
                    break
            else:
                out.append(list(group))
        groups = out
    return groups


def check_region_parameters(min_area: float, pad: float, max_rois: int | None,
                            merge: float) -> None:
    """ParameterError naming the first of these :func:`find_rois` parameters out of range
    (NaN and infinity included)."""
    if not 0.0 <= real_number(min_area, "min_area") < 1.0:
        raise ParameterError(f"min_area must be a fraction of the image in [0, 1); got "
                             f"{min_area}", "min_area")
    if not 0 <= real_number(pad, "pad") <= MAX_PAD:
        raise ParameterError(f"pad must be in [0, {MAX_PAD:g}] (a fraction of the box size); "
                             f"got {pad}", "pad")
    if max_rois is not None and (isinstance(max_rois, bool)
                                 or not isinstance(max_rois, numbers.Integral) or max_rois < 1):
        raise ParameterError(f"max_rois must be >= 1 (a whole number, or None); got "
                             f"{max_rois!r}", "max_rois")
    if not 0.0 <= real_number(merge, "merge") < 1.0:
        raise ParameterError(f"merge must be a fraction of the short side in [0, 1); got "
                             f"{merge}", "merge")


def find_rois(focus: np.ndarray, threshold: float | str = "otsu", *, min_area: float = 0.01,
              pad: float = 0.0, max_rois: int | None = None, merge: float = 0.1
              ) -> list[Roi]:
    """Boxes around the in-focus regions of a map, largest focus mass first.

    Parameters
    ----------
    focus : float (H, W) in [0, 1], 1 = in focus.
    threshold : in-focus level in (0, 1], or ``"otsu"`` (see :func:`otsu_threshold`).
    min_area : regions with fewer in-focus pixels than this fraction of the image are dropped,
        in [0, 1); pieces under a tenth of it are specks, removed before merging.
    pad : each box grows by this fraction of its width (height) on both sides, clipped to the
        image; >= 0.
    max_rois : keep at most this many (None = all).
    merge : pieces whose boxes are closer than this fraction of the short side become one
        region (a subject the map splits, e.g. at smooth clothing, stays whole); in [0, 1).

    >>> import numpy as np
    >>> focus = np.zeros((40, 60), np.float32); focus[10:20, 5:25] = 1.0
    >>> [roi.bbox for roi in find_rois(focus)]
    [(5, 10, 20, 10)]
    """
    check_focus(focus)
    check_region_parameters(min_area, pad, max_rois, merge)
    mask = in_focus_mask(focus, resolve_threshold(focus, threshold), SPECK * min_area)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    masses = np.bincount(labels.ravel(), weights=focus.ravel(), minlength=count)
    pieces = sorted(([x, y, x + w, y + h, area, masses[label]]
                     for label, (x, y, w, h, area) in enumerate(stats.tolist()) if label > 0),
                    key=lambda piece: -piece[4])
    groups = merge_boxes(pieces, merge * min(focus.shape))
    size = focus.shape[1], focus.shape[0]
    means = BoxMeans(focus)
    rois = []
    for x1, y1, x2, y2, area, mass in groups:
        if area < min_area * focus.size:
            continue
        box = pad_box((x1, y1, x2, y2), pad, size)
        rois.append(Roi(box[0], box[1], box[2] - box[0], box[3] - box[1], means(box), int(area),
                        float(mass)))
    rois.sort(key=lambda roi: -roi.mass)
    return rois[:max_rois]
