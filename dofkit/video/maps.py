"""Focus maps for a stream of frames: fresh every ``every`` frames, carried between, smoothed."""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from ..errors import ParameterError
from ..focus import check_rgb
from ..render.stylizer import check_focus
from .smoothing import TemporalSmoother


class FrameMaps:
    """Focus map of each frame of a shot, in order, float32 (H, W) in [0, 1].

    Parameters
    ----------
    estimate : image float32 RGB (H, W, 3) in [0, 1] -> fresh focus map, e.g. a
        :class:`~dofkit.focus.FocusEstimator` (made once for the whole video).
    smooth : strength of the temporal smoothing in [0, 1); 0 = off. See
        :class:`~.smoothing.TemporalSmoother`.
    every : compute a fresh map on every ``every``-th frame (1 = all frames); the frames in
        between get the previous map moved onto them by optical flow, or a fresh one when
        that fails (scene cut, poor match).

    ``computed`` counts the fresh maps made so far.
    """

    def __init__(self, estimate: Callable[[np.ndarray], np.ndarray], *, smooth: float = 0.7,
                 every: int = 1):
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ParameterError(f"every must be a whole number of frames >= 1; got {every!r}",
                                 "every")
        if isinstance(smooth, bool) or not isinstance(smooth, numbers.Real) \
                or not 0.0 <= smooth < 1.0:
            raise ParameterError(f"smooth must be in [0, 1); got {smooth!r}", "smooth")
        self._estimate = estimate
        self._smoother = TemporalSmoother(smooth)
        self.every = every
        self.computed = 0
        self._age = 0  # frames since the last fresh map, counting the frame that got it

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The map of the next frame, ``rgb`` float32 (H, W, 3) in [0, 1] (ParameterError
        naming ``image`` otherwise, or naming ``estimate`` for a map from it that is not
        float32 (H, W) of the frame's size in [0, 1])."""
        check_rgb(rgb)
        has_history = not self._smoother.advance(rgb)
        if has_history and self._age < self.every:
            carried = self._smoother.carry()
            if carried is not None:
                self._age += 1
                return carried
        self._age = 1
        self.computed += 1
        fresh = self._estimate(rgb)
        try:
            check_focus(fresh, rgb)
        except ParameterError as exc:
            raise ParameterError(f"estimate gave a map that is not usable: {exc}",
                                 "estimate") from None
        return self._smoother.blend(fresh)

    def motion(self) -> np.ndarray | None:
        """Motion of the last frame against the one before (see
        :meth:`~.smoothing.TemporalSmoother.motion`); None after a scene cut."""
        return self._smoother.motion()
