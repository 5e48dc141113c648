"""Temporal smoothing of focus maps that follows motion and resets at scene cuts.

For each new frame the previous smoothed map is warped onto it with dense optical flow
(OpenCV's DIS flow on a grey copy at most :data:`FLOW_WIDTH` px wide), clamped to the range
the frame's own map spans nearby (:data:`CLAMP_RADIUS`, widened by :data:`CLAMP_MARGIN`), then
blended with it::

    smoothed = w * clamped_warped_previous + (1 - w) * fresh,   w = strength * trust

``confidence`` in [0, 1] is per pixel: 1 where the warped previous frame matches the new one,
falling to 0 where their locally averaged difference reaches :data:`TOLERANCE` (occlusions,
flow failures). ``trust`` is the lowest confidence along the way since the last fresh map (a
map carried over frames, see :meth:`TemporalSmoother.carry`, is only as good as its worst
match). With the clamp, a moving subject leaves no trail while noise is still averaged. A
scene cut (grey-histogram Bhattacharyya distance above :data:`CUT_DISTANCE`) drops the history.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from ..errors import ParameterError

#: Width in px of the grey frames the flow and the cut test work on.
FLOW_WIDTH = 320
#: Shortest side in px those grey frames need for the optical flow (DIS refuses smaller ones);
#: frames that give a smaller copy (tiny frames, thin strips) are smoothed not at all.
MIN_FLOW_SIDE = 16
#: Grey-histogram Bhattacharyya distance (0 = same, 1 = disjoint) above which a frame starts
#: a new shot.
CUT_DISTANCE = 0.4
#: Grey difference (0-1) between a frame and the warped previous one at which the previous
#: map is no longer trusted.
TOLERANCE = 0.12
#: Sigma in px (on the small grey frames) of the blur of the signed difference: averages
#: sensor noise away, keeps the mismatch of moved structures.
MATCH_SIGMA = 2.0
#: Mean confidence below which the previous map cannot stand in for a fresh one.
MIN_CONFIDENCE = 0.5
_BINS = 32
#: Neighbourhood (px) of the clamp of the history to the fresh map's local range, and the
#: margin (map units) by which that range is widened: a history value further than that from
#: anything the fresh map shows nearby is a subject's old place, not noise.
CLAMP_RADIUS = 3
CLAMP_MARGIN = 0.25
_CLAMP_KERNEL = np.ones((2 * CLAMP_RADIUS + 1, 2 * CLAMP_RADIUS + 1), np.uint8)


class TemporalSmoother:
    """Stateful per-frame focus-map smoother; see the module docstring.

    Parameters
    ----------
    strength : weight of the past in [0, 1): 0 = no smoothing, 0.8 = strong. On a static
        shot with independent per-frame noise (full confidence), the mean frame-to-frame
        change of the map is multiplied by ``(1 - s) / sqrt(1 + s)`` (0.25 at s = 0.7).

    Call :meth:`advance` with each frame first, then :meth:`blend` with its fresh map, or
    :meth:`carry` to reuse the previous one moved onto the frame.
    """

    def __init__(self, strength: float = 0.7):
        if not 0.0 <= strength < 1.0:
            raise ParameterError(f"strength must be in [0, 1); got {strength:g}", "strength")
        self.strength = strength
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._grey: np.ndarray | None = None
        self._histogram: np.ndarray | None = None
        self._map: np.ndarray | None = None
        self._trust: np.ndarray | None = None  # (H, W) in [0, 1]: how far _map is believed
        self._previous_grey: np.ndarray | None = None
        self._size: tuple[int, int] | None = None
        self._motion: np.ndarray | None = None
        self._moved: tuple[np.ndarray, np.ndarray] | None = None

    def advance(self, rgb: np.ndarray) -> bool:
        """Register the next frame, float32 RGB (H, W, 3) in [0, 1]. Returns True when there
        is no history to use (first frame, size change, scene cut, or a frame too small for
        the flow: :data:`MIN_FLOW_SIDE`)."""
        height, width = rgb.shape[:2]
        small = (min(width, FLOW_WIDTH), max(1, round(height * min(width, FLOW_WIDTH) / width)))
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, small, interpolation=cv2.INTER_AREA)
        grey = (np.clip(grey, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        histogram = cv2.calcHist([grey], [0], None, [_BINS], [0, 256])
        histogram /= max(float(histogram.sum()), 1.0)
        cut = (self._map is None or self._map.shape != (height, width)
               or min(grey.shape) < MIN_FLOW_SIDE
               or cv2.compareHist(self._histogram, histogram,
                                  cv2.HISTCMP_BHATTACHARYYA) > CUT_DISTANCE)
        self._previous_grey = None if cut else self._grey
        self._grey, self._histogram, self._moved, self._motion = grey, histogram, None, None
        self._size = (height, width)
        if cut:
            self._map = None
        return cut

    def blend(self, focus: np.ndarray) -> np.ndarray:
        """Smooth the fresh map float32 (H, W) in [0, 1] of the frame given to :meth:`advance`
        with the history; returns the smoothed map (and keeps it as the new history)."""
        if self._map is not None and self.strength > 0.0:
            warped, trust = self._moved_history()
            # Neighbourhood clamp (as temporal anti-aliasing does against ghosting): the past
            # may smooth the fresh map within the range it spans nearby (widened by
            # CLAMP_MARGIN, so noise is still averaged), not hold a value the frame no longer
            # has anywhere near (a moved subject's old place).
            warped = cv2.min(cv2.max(warped, cv2.erode(focus, _CLAMP_KERNEL) - CLAMP_MARGIN),
                             cv2.dilate(focus, _CLAMP_KERNEL) + CLAMP_MARGIN)
            # focus + strength * trust * (warped - focus), in OpenCV's vectorised arithmetic
            focus = cv2.scaleAdd(cv2.multiply(cv2.subtract(warped, focus), trust),
                                 self.strength, focus)
        self._map, self._trust = focus, np.ones_like(focus)
        return focus

    def carry(self) -> np.ndarray | None:
        """The previous map moved onto the current frame, kept as the new history; None when
        there is none or it matches the frame too poorly (compute a fresh map then)."""
        if self._map is None:
            return None
        warped, trust = self._moved_history()
        if float(trust.mean()) < MIN_CONFIDENCE:
            return None
        self._map, self._trust = warped, trust
        return warped

    def motion(self) -> np.ndarray | None:
        """Motion of the frame given to :meth:`advance` against the one before, on the small
        grid of the flow: float32 (h, w, 3) of (dx, dy) in full-resolution px to where each
        point was in the previous frame and the confidence in [0, 1]; None when there is no
        history (first frame, size change, scene cut, a frame too small for the flow)."""
        if self._previous_grey is None:
            return None
        if self._motion is None:
            previous, current = self._previous_grey, self._grey
            small_h, small_w = current.shape
            flow = self._flow.calc(current, previous, None)
            grid = _grid(small_h, small_w) + flow
            moved_grey = cv2.remap(previous, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
            difference = (moved_grey.astype(np.float32) - current) / 255.0
            difference = np.abs(cv2.GaussianBlur(difference, (0, 0), MATCH_SIGMA))
            confidence = np.clip(1.0 - difference / TOLERANCE, 0.0, 1.0)
            height, width = self._size
            scale = np.array([width / small_w, height / small_h], np.float32)
            self._motion = np.dstack([flow * scale, confidence]).astype(np.float32)
        return self._motion

    def _moved_history(self) -> tuple[np.ndarray, np.ndarray]:
        """(previous map warped onto the current frame, its trust), full size. The trust is
        the lower of the history's own (1 for a map made from a fresh one, the weakest match
        along the way for one carried over frames), moved along, and this frame's
        confidence: a map carried through a poor match stays distrusted until a fresh map
        replaces it, so it leaves no trail."""
        if self._moved is None:
            assert self._map is not None and self._trust is not None
            motion = self.motion()
            height, width = self._map.shape
            flow, confidence = (cv2.resize(np.ascontiguousarray(part), (width, height),
                                           interpolation=cv2.INTER_LINEAR)
                                for part in (motion[..., :2], motion[..., 2]))
            # fixed-point coordinates (1/32 px, the precision remap interpolates at anyway):
            # it runs about twice as fast with them
            coordinates = cv2.convertMaps(cv2.add(flow, _grid(height, width)), None,
                                          cv2.CV_16SC2)
            warped = cv2.remap(cv2.merge([self._map, self._trust]), *coordinates,
                               cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            self._moved = (np.clip(warped[..., 0], 0.0, 1.0),
                           np.minimum(warped[..., 1], confidence))
        return self._moved


@functools.lru_cache(maxsize=4)
def _grid(height: int, width: int) -> np.ndarray:
    """Pixel coordinates float32 (H, W, 2) as (x, y), cached per size (read-only)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    grid = np.dstack([xs, ys])
    grid.flags.writeable = False
    return grid
