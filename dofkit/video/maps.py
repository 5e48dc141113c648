"""Focus maps for a stream of frames: fresh every ``every`` frames, carried between, smoothed."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import ParameterError
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
        if every < 1:
            raise ParameterError(f"every must be >= 1 frame; got {every}", "every")
        self._estimate = estimate
        self._smoother = TemporalSmoother(smooth)
        self.every = every
        self.computed = 0
        self._age = 0  # frames since the last fresh map, counting the frame that got it

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The map of the next frame, ``rgb`` float32 (H, W, 3) in [0, 1]."""
        has_history = not self._smoother.advance(rgb)
        if has_history and self._age < self.every:
            carried = self._smoother.carry()
            if carried is not None:
                self._age += 1
                return carried
        self._age = 1
        self.computed += 1
        return self._smoother.blend(self._estimate(rgb))

    def motion(self) -> np.ndarray | None:
        """Motion of the last frame against the one before (see
        :meth:`~.smoothing.TemporalSmoother.motion`); None after a scene cut."""
        return self._smoother.motion()
