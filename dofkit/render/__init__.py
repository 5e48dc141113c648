"""Focus-weighted NPR stylisation: GLSL passes (ModernGL, EGL) with a CPU reference.

>>> from dofkit.render import Stylizer
>>> with Stylizer("toon") as stylizer:           # doctest: +SKIP
...     frames = [stylizer(image, focus) for image, focus in pairs]

Passes (``pipeline``): sRGB -> CIELab; one smoothed structure tensor; orientation-aligned
bilateral abstraction (the background on a reduced copy, composited by focus); flow-based DoG
lines; composition (soft gradient-aware toon steps, background desaturation and fade, XDoG
lines whose opacity follows focus and edge coherence, optional blend with the previous
frame) back to sRGB. Presets in :data:`STYLES`, parameters in :data:`PARAMETERS`. moderngl is
imported only when a GL backend is made.
"""

from __future__ import annotations

import atexit
import threading

import numpy as np

from .styles import DEFAULT_STYLE, PARAMETERS, STYLES
from .pipeline import Prepared
from .stylizer import BACKENDS, Stylizer

__all__ = ["Stylizer", "Prepared", "stylize", "STYLES", "PARAMETERS", "DEFAULT_STYLE",
           "BACKENDS"]

_cached: dict[str, Stylizer] = {}
_cache_lock = threading.Lock()  # one call at a time: configure, call and release together


@atexit.register
def _close_cached() -> None:
    """Close the Stylizers :func:`stylize` kept (their EGL contexts) at interpreter exit."""
    while _cached:
        _cached.popitem()[1].close()


def stylize(image: np.ndarray, focus: np.ndarray, style: str = DEFAULT_STYLE,
            backend: str = "auto", **params) -> np.ndarray:
    """Stylise one image: float32 (H, W, 3) and focus float32 (H, W), both in [0, 1] ->
    float32 (H, W, 3) in [0, 1]. Keeps one Stylizer (GL context and programs) per backend
    for the next call, with its image-sized textures released; calls from several threads
    are taken one at a time. See :class:`Stylizer`."""
    with _cache_lock:
        stylizer = _cached.get(backend)
        if stylizer is None:
            stylizer = _cached[backend] = Stylizer(DEFAULT_STYLE, backend)
        stylizer.configure(style, **params)
        try:
            return stylizer(image, focus)
        finally:
            stylizer.release()
