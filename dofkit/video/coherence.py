"""Temporally coherent stylised video: each stylised frame is blended with the previous one,
moved along the optical flow the map smoother computes, where that motion is trusted."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .maps import FrameMaps

#: Default weight of the moved previous stylised frame. On a static shot with per-frame noise
#: (full confidence) it divides the frame-to-frame change by sqrt(1 + c) / (1 - c): 4.3.
DEFAULT_COHERENCE = 0.7


class CoherentStylizer:
    """Stylise the frames of a video in order, float32 RGB (H, W, 3) in [0, 1] -> stylised
    frame, the same.

    Parameters
    ----------
    stylizer : a :class:`~dofkit.render.Stylizer` (made once for the whole video).
    maps : the :class:`~.maps.FrameMaps` giving each frame's focus map; its smoother's optical
        flow and confidence also move the previous stylised frame.
    coherence : weight in [0, 1) of the moved previous stylised frame where the motion is
        trusted and slow (``coherence * confidence``, falling with the speed: see
        :data:`dofkit.render.pipeline.STEADY_MOTION`); 0 = every frame stylised on its own.
        The history is dropped at scene cuts.
    """

    def __init__(self, stylizer, maps: FrameMaps, coherence: float = DEFAULT_COHERENCE):
        if not 0.0 <= coherence < 1.0:
            raise ParameterError(f"coherence must be in [0, 1); got {coherence:g}",
                                 parameter="coherence")
        self._stylizer, self._maps, self.coherence = stylizer, maps, coherence
        self._previous: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self.render(self.prepare(rgb))

    def prepare(self, rgb: np.ndarray) -> tuple:
        """The part that needs no GL, which may run on another thread, one frame ahead
        (:func:`~.run.process`): the map and motion of the next frame ``rgb``, and the
        stylizer's own preparation (:meth:`~dofkit.render.Stylizer.prepare`)."""
        focus = self._maps(rgb)
        motion = self._maps.motion() if self.coherence > 0 else None
        return self._stylizer.prepare(rgb, focus), motion

    def render(self, prepared: tuple) -> np.ndarray:
        """The stylised frame, from what :meth:`prepare` made of it; frames in order."""
        if not (isinstance(prepared, tuple) and len(prepared) == 2):
            raise ParameterError("prepared must be what CoherentStylizer.prepare returns; got "
                                 f"{type(prepared).__name__}", "prepared")
        frame, motion = prepared
        previous = self._previous if motion is not None else None
        self._previous = self._stylizer.draw(frame, previous=previous, motion=motion,
                                             coherence=self.coherence)
        return self._previous
